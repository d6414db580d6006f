"""Thematic styles: classification, one spec drawn by MapLibre, Folium and the legend alike; built-in layers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient

from layers import drawing
from layers.catalog import layer_from_mapping
from layers.thematic import ThematicStyle, classify, ramp
from tests._layer_helpers import DATA, make_keys, upload


def test_classifications_and_ramps() -> None:
    values = np.arange(1, 101, dtype=float)
    assert classify(values, "quantiles", 4) == [25.75, 50.5, 75.25]
    assert classify(values, "equal_interval", 4) == [25.75, 50.5, 75.25]
    natural = classify(np.r_[np.ones(20), np.full(20, 50.0), np.full(20, 100.0)], "natural_breaks", 3)
    assert len(natural) == 2 and natural[0] < 50 <= natural[1] < 100
    assert classify(values, "manual", breaks=[10, 20]) == [10.0, 20.0]
    colours = ramp("YlOrRd", 7)
    assert len(colours) == 7 and colours[0] == "#ffffcc" and colours[-1] == "#800026"
    assert ramp("YlOrRd_r", 2) == ["#800026", "#ffffcc"]


def test_one_style_object_drives_maplibre_folium_and_legend() -> None:
    style = ThematicStyle(geometry="polygon", field="height", method="manual", ramp="Blues").with_edges(
        [10.0, 20.0], 0.0, 50.0
    )
    spec = style.to_dict()
    legend = drawing.legend(spec, "高度")
    assert [i["label"] for i in legend["items"]] == ["0 – 10", "10 – 20", "20 – 50", "无数据 no data"]
    paint = drawing.maplibre_layers(spec, "h", "src", "h")[0]["paint"]["fill-color"]
    assert paint[0] == "case" and paint[3][:3] == [
        "step",
        ["to-number", ["get", "height"]],
        legend["items"][0]["color"],
    ]
    for value, item in ((5, 0), (10, 1), (19.9, 1), (35, 2)):
        assert drawing.colour_for(spec, value) == legend["items"][item]["color"]
        assert maplibre_colour(paint, {"height": value}) == legend["items"][item]["color"]
    assert drawing.colour_for(spec, None) == "#cccccc" == maplibre_colour(paint, {})
    categories = ThematicStyle(field="use", method="categories").with_categories(["a", "b"]).to_dict()
    assert drawing.maplibre_layers(categories, "u", "s")[0]["paint"]["fill-color"][0] == "match"
    assert ThematicStyle.from_dict(style.to_dict()).classes == style.classes


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def test_put_style_and_legend_with_permissions(
    client: TestClient, database_url: str, db: psycopg.Connection
) -> None:
    keys = make_keys(database_url)
    water, housing = {"X-API-Key": keys["water"]}, {"X-API-Key": keys["housing"]}
    created = upload(client, keys["water"], DATA / "buildings_gbk_shp.zip", id="styled_buildings")
    assert created.status_code == 201, created.text
    height = next(f["name"] for f in created.json()["report"]["fields"] if f["title"] == "高度")
    spec = {"field": height, "method": "natural_breaks", "k": 4, "ramp": "YlOrRd"}
    assert client.put("/collections/styled_buildings/style", json=spec, headers=housing).status_code == 403
    wrong = client.put("/collections/styled_buildings/style", json={**spec, "k": "x"}, headers=water)
    assert wrong.status_code == 400 and "style k" in wrong.json()["detail"]
    styled = client.put("/collections/styled_buildings/style", json=spec, headers=water)
    assert styled.status_code == 200, styled.text
    document = styled.json()
    assert document["style"]["method"] == "natural_breaks" and len(document["style"]["classes"]) <= 4
    assert document["maplibre"][0]["type"] == "fill"
    legend = client.get("/collections/styled_buildings/legend", headers=water)
    assert (
        legend.status_code == 200
        and legend.json()["items"][0]["color"] == document["style"]["classes"][0]["color"]
    )
    assert client.get("/collections/styled_buildings/legend", headers=housing).status_code == 403
    assert client.get("/collections/styled_buildings/legend?f=html", headers=water).text.startswith("<div")
    bad = client.put(
        "/collections/styled_buildings/style", json={"field": "nope", "method": "quantiles"}, headers=water
    )
    assert bad.status_code == 400 and "no field" in bad.json()["detail"]
    name = next(f["name"] for f in created.json()["report"]["fields"] if f["title"] == "名称")
    text = client.put(
        "/collections/styled_buildings/style", json={"field": name, "method": "quantiles"}, headers=water
    )
    assert text.status_code == 400 and "categories" in text.json()["detail"]


@pytest.mark.parametrize(
    "layer_id",
    [
        "population_per_grid",
        "enterprises_per_building",
        "building_use",
        "building_age",
        "open_issues_per_community",
    ],
)
def test_builtin_thematic_layers(client: TestClient, database_url: str, layer_id: str) -> None:
    keys = make_keys(database_url)
    admin = {"X-API-Key": keys["admin"]}
    legend = client.get(f"/collections/{layer_id}/legend", headers=admin)
    assert legend.status_code == 200, legend.text
    assert len(legend.json()["items"]) >= 2
    items = client.get(f"/collections/{layer_id}/items?limit=5", headers=admin)
    assert items.status_code == 200, items.text
    assert items.json()["features"]


def maplibre_colour(expression: Any, properties: dict[str, Any]) -> Any:
    """Evaluate the MapLibre expressions ``layers.drawing`` writes (case, ==, get, match, step, to-*)."""
    if not isinstance(expression, list):
        return expression
    op, *args = expression
    if op == "get":
        return properties.get(args[0])
    if op in ("case", "match", "step"):
        return _BRANCHES[op](*args, properties=properties)
    values = [maplibre_colour(a, properties) for a in args]
    return {
        "to-number": lambda: float(values[0]),
        "to-string": lambda: "" if values[0] is None else str(values[0]),
        "==": lambda: values[0] == values[1],
    }[op]()


def _case(*args: Any, properties: dict[str, Any]) -> Any:
    for test, result in zip(args[:-1:2], args[1:-1:2], strict=True):
        if maplibre_colour(test, properties):
            return maplibre_colour(result, properties)
    return maplibre_colour(args[-1], properties)


def _match(*args: Any, properties: dict[str, Any]) -> Any:
    value, pairs = maplibre_colour(args[0], properties), args[1:-1]
    return next((out for label, out in zip(pairs[::2], pairs[1::2], strict=True) if label == value), args[-1])


def _step(*args: Any, properties: dict[str, Any]) -> Any:
    value, result = maplibre_colour(args[0], properties), args[1]
    for edge, output in zip(args[2::2], args[3::2], strict=True):
        if value >= edge:
            result = output
    return result


_BRANCHES = {"case": _case, "match": _match, "step": _step}


def test_onemap_style_draws_the_stored_classes_as_the_viewer_does(
    client: TestClient, database_url: str, db: psycopg.Connection
) -> None:
    """/styles/onemap.json (MapLibre) and the Folium viewer colour every feature alike, from the classes stored
    in the catalog (a restyled layer) or the built-in defaults."""
    keys = make_keys(database_url)
    water = {"X-API-Key": keys["water"]}
    created = upload(client, keys["water"], DATA / "buildings_gbk_shp.zip", id="drawn_buildings")
    assert created.status_code == 201, created.text
    height = next(f["name"] for f in created.json()["report"]["fields"] if f["title"] == "高度")
    asked = {"field": height, "method": "quantiles", "k": 4, "ramp": "Blues"}
    assert client.put("/collections/drawn_buildings/style", json=asked, headers=water).status_code == 200
    style = client.get("/styles/onemap.json", headers=water).json()
    compared = 0
    for layer_id in ("drawn_buildings", "buildings", "grids"):
        row = db.execute("SELECT to_jsonb(l) FROM onemap.layer l WHERE id = %s", (layer_id,)).fetchone()
        assert row is not None
        spec = drawing.layer_spec(layer_from_mapping(row[0]))  # what the viewer page hands viewer.js
        drawn = [s for s in style["layers"] if s.get("source-layer") == layer_id]
        paint = drawn[0]["paint"]
        colour = paint.get("fill-color", paint.get("line-color"))
        features = client.get(f"/collections/{layer_id}/items", params={"limit": 50}, headers=water).json()
        for feature in features["features"]:
            expected = drawing.colour_for(spec, feature["properties"].get(spec.get("property") or ""))
            assert maplibre_colour(colour, feature["properties"]) == expected, (
                layer_id,
                feature["properties"],
            )
            compared += 1
    stored = db.execute("SELECT style->'classes' FROM onemap.layer WHERE id = 'drawn_buildings'").fetchone()
    drawn_colours = {c["color"] for c in (stored[0] if stored else [])}
    assert len(drawn_colours) >= 2 and drawn_colours <= set(map(str, _flatten(style["layers"])))
    page = client.get("/map", headers=water).text  # the Folium viewer is handed the same classes
    assert all(colour in page for colour in drawn_colours)
    assert compared > 50
    assert client.delete("/layers/drawn_buildings", headers=water).status_code == 204


def _flatten(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    else:
        yield value
