"""A plain HTML view of any OGC API document: its title, links, and a table of features or collections.

Not a map (the viewers at /map are); enough to browse the API from a browser without a client.
"""

from __future__ import annotations

from html import escape
from typing import Any


def render_html(doc: dict[str, Any]) -> str:
    title = escape(str(doc.get("title") or doc.get("id") or doc.get("type") or "onemap"))
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>",
        f"<h1>{title}</h1>",
    ]
    if doc.get("description"):
        parts.append(f"<p>{escape(str(doc['description']))}</p>")
    parts.append(_links(doc.get("links") or []))
    if isinstance(doc.get("features"), list):
        parts.append(_table([{"id": f.get("id"), **(f.get("properties") or {})} for f in doc["features"]]))
    elif isinstance(doc.get("collections"), list):
        parts.append(_table([{"id": c.get("id"), "title": c.get("title")} for c in doc["collections"]]))
    elif doc.get("type") == "Feature":
        parts.append(_table([{"id": doc.get("id"), **(doc.get("properties") or {})}]))
    elif isinstance(doc.get("conformsTo"), list):
        parts.append("<ul>" + "".join(f"<li>{escape(c)}</li>" for c in doc["conformsTo"]) + "</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def _links(links: list[dict[str, str]]) -> str:
    items = "".join(
        f"<li><a href='{escape(x.get('href', ''), quote=True)}'>{escape(x.get('title') or x.get('rel', ''))}"
        f"</a> ({escape(x.get('type', ''))})</li>"
        for x in links
    )
    return f"<ul>{items}</ul>"


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>No items.</p>"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table border='1'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
