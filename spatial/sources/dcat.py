"""The catalogue as DCAT-AP (JSON-LD) for the city's open-data portal: one dcat:Dataset per data item,
published by its department, with its update frequency (EU frequency vocabulary), last modification and format.
Contacts are the departments' units, pull sources are left out (they describe internal systems)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spatial.sources.vocabulary import FREQUENCIES

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct:modified": {"@type": "xsd:dateTime"},
    "dct:issued": {"@type": "xsd:dateTime"},
}
FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
FILE_TYPE_BASE = "http://publications.europa.eu/resource/authority/file-type/"
_FILE_TYPES = (
    ("csv", "CSV"),
    ("xlsx", "XLSX"),
    ("shapefile", "SHP"),
    ("geopackage", "GPKG"),
    ("geojson", "GEOJSON"),
    ("flatgeobuf", "FGB"),
    ("json", "JSON"),
)


def _file_type(text: str) -> str | None:
    lowered = text.lower()
    return next((FILE_TYPE_BASE + code for word, code in _FILE_TYPES if word in lowered), None)


def catalog_jsonld(overview: list[dict[str, Any]], base_url: str, title: str) -> dict[str, Any]:
    """`overview` as from ``catalogue_overview``; `base_url` is where the catalogue is served."""
    base = base_url.rstrip("/")
    datasets = []
    for department in overview:
        publisher = {
            "@id": f"{base}/sources/{department['department']}#publisher",
            "@type": "foaf:Organization",
            "foaf:name": department["name"],
        }
        for item in department["items"]:
            dataset: dict[str, Any] = {
                "@id": f"{base}/sources/{department['department']}#item-{item['id']}",
                "@type": "dcat:Dataset",
                "dct:identifier": f"{department['department']}/{item['id']}",
                "dct:title": {"@value": item["name"], "@language": "zh"},
                "dct:description": {
                    "@value": f"{department['name']} {item['system_name']}: {item['name']}",
                    "@language": "zh",
                },
                "dct:publisher": publisher,
                "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": department["name"]},
                "dct:accrualPeriodicity": {
                    "@id": FREQUENCY_BASE + FREQUENCIES.get(item["frequency"], FREQUENCIES["daily"])[2]
                },
                "dcat:keyword": [item["entity_kind"], *item["authoritative_for"], *item["verifies"]],
                "dcat:distribution": [
                    {
                        "@type": "dcat:Distribution",
                        "dct:title": item["format"] or item["name"],
                        "dcat:accessURL": {"@id": f"{base}/sources/{department['department']}"},
                        **({"dct:format": {"@id": ft}} if (ft := _file_type(item["format"])) else {}),
                    }
                ],
            }
            if item["freshness"]["last_delivery"]:
                dataset["dct:modified"] = item["freshness"]["last_delivery"]
            datasets.append(dataset)
    return {
        "@context": CONTEXT,
        "@id": f"{base}/sources/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": {"@value": title, "@language": "zh"},
        "dct:modified": datetime.now(UTC).isoformat(),
        "dcat:dataset": datasets,
    }
