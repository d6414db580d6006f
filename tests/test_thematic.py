"""Thematic styles: classification, one style object for MapLibre, Folium and the legend; built-in layers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient

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
    legend = style.legend("高度")
    assert [i["label"] for i in legend["items"]] == ["0 – 10", "10 – 20", "20 – 50", "无数据 no data"]
    paint = style.maplibre_layers("h", "src", "h")[0]["paint"]["fill-color"]
    assert paint[0] == "case" and paint[3][:3] == [
        "step",
        ["to-number", ["get", "height"]],
        legend["items"][0]["color"],
    ]
    function = style.folium_style_function()
    for value, item in ((5, 0), (10, 1), (19.9, 1), (35, 2)):
        assert function({"properties": {"height": value}})["fillColor"] == legend["items"][item]["color"]
        assert style.color_for(value) == legend["items"][item]["color"]
    assert function({"properties": {}})["fillColor"] == "#cccccc"
    categories = ThematicStyle(field="use", method="categories").with_categories(["a", "b"])
    assert categories.maplibre_layers("u", "s")[0]["paint"]["fill-color"][0] == "match"
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
