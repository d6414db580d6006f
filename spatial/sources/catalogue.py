"""The source catalogue (三张清单): each department's function list, matter list and system list, and for each
system its data items (entity kind, authoritative and verified attributes, frequency, format, pull source).

Imported from the workbook a department fills in (three sheets, Chinese headers, merged cells), department by
department: importing a department's lists replaces that department's lists and keeps the ids of the data items
it still has, so deliveries stay linked to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg.types.json import Jsonb

from spatial.cleaning.reading import read_table, sheet_names
from spatial.errors import InvalidInput
from spatial.sources.errors import CatalogueInvalid
from spatial.sources.vocabulary import (
    DEPARTMENT_NAMES,
    ENTITY_NAMES,
    FREQUENCIES,
    ITEM_ATTRIBUTES,
    attribute_code,
    department_code,
    entity_code,
    frequency_code,
)

SHEETS = {
    "functions": ("职能清单", "functions"),
    "matters": ("事项清单", "matters"),
    "systems": ("系统清单", "systems"),
}
# Column headings per sheet, as departments write them (the first of each is what the template uses).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "functions": {
        "department": ("部门", "单位", "部门名称", "department"),
        "name": ("职能名称", "职能", "function"),
        "description": ("职能描述", "职能内容", "description"),
        "basis": ("设定依据", "依据", "basis"),
    },
    "matters": {
        "department": ("部门", "单位", "部门名称", "department"),
        "name": ("事项名称", "事项", "matter"),
        "function_name": ("所属职能", "职能名称", "function"),
        "kind": ("事项类型", "类型", "kind"),
        "description": ("事项描述", "description"),
    },
    "systems": {
        "department": ("部门", "单位", "部门名称", "department"),
        "system": ("系统名称", "系统", "system"),
        "description": ("系统描述", "系统说明", "description"),
        "contact": ("联系人", "联系方式", "contact"),
        "item": ("数据项", "数据项名称", "名称", "data_item"),
        "entity_kind": ("实体类型", "对象类型", "entity_kind"),
        "authoritative_for": ("权威属性", "权威字段", "authoritative_for"),
        "verifies": ("校验属性", "校验字段", "verifies"),
        "frequency": ("更新频率", "频率", "frequency"),
        "format": ("数据格式", "格式", "format"),
        "pull": ("拉取来源", "pull"),
        "pull_query": ("拉取查询", "pull_query"),
        "pull_mark": ("增量字段", "高水位字段", "pull_mark"),
    },
}
_LIST_SEPARATORS = re.compile(r"[、,，;；\s]+")
_DSN_WITH_SECRET = re.compile(r"^[a-z+]+://[^/@]*:[^/@]*@", re.IGNORECASE)
MAX_PROBLEMS = 20


@dataclass
class CatalogueItem:
    department: str
    system_name: str
    name: str
    entity_kind: str
    authoritative_for: list[str] = field(default_factory=list)
    verifies: list[str] = field(default_factory=list)
    frequency: str = "daily"
    format: str = ""
    contact: str = ""
    pull: dict[str, Any] | None = None


@dataclass
class Catalogue:
    functions: list[dict[str, str]] = field(default_factory=list)
    matters: list[dict[str, str]] = field(default_factory=list)
    systems: list[dict[str, str]] = field(default_factory=list)
    items: list[CatalogueItem] = field(default_factory=list)

    @property
    def departments(self) -> list[str]:
        found = {r["department"] for r in self.functions + self.matters + self.systems}
        return sorted(found | {i.department for i in self.items})

    def counts(self) -> dict[str, int]:
        return {
            "departments": len(self.departments),
            "functions": len(self.functions),
            "matters": len(self.matters),
            "systems": len(self.systems),
            "items": len(self.items),
        }


# ---------------------------------------------------------------------------------------------- reading


def _sheet_for(path: Path, list_name: str, available: list[str]) -> str:
    names = SHEETS[list_name]
    found = next((s for s in available if "".join(s.split()) in names or s.strip().lower() in names), None)
    if found is None:
        raise CatalogueInvalid(
            f"{path.name} has no sheet {names[0]} ({list_name}); a catalogue workbook has three sheets: "
            f"职能清单, 事项清单 and 系统清单 (its sheets: {', '.join(available)})"
        )
    return found


def _rows(path: Path, list_name: str, sheet: str) -> list[tuple[int, dict[str, str]]]:
    aliases = COLUMNS[list_name]
    known = {a for names in aliases.values() for a in names}
    try:
        table = read_table(path, known, sheet)
    except InvalidInput:
        raise CatalogueInvalid(
            f"{path.name}, sheet {sheet}: no header row; it needs e.g. {', '.join(v[0] for v in aliases.values())}"
        ) from None
    positions: dict[str, int] = {}
    for index, title in enumerate(table.header):
        for column, names in aliases.items():
            if column not in positions and (title in names or title.lower() in names):
                positions[column] = index
    required = (
        ("department", "system", "item", "entity_kind") if list_name == "systems" else ("department", "name")
    )
    missing = [aliases[c][0] for c in required if c not in positions]
    if missing:
        raise CatalogueInvalid(
            f"{path.name}, sheet {sheet}: no column {', '.join(missing)}; found {', '.join(table.header)}"
        )
    return [
        (row_no, {c: (cells[i].strip() if i < len(cells) else "") for c, i in positions.items()})
        for row_no, cells in table.rows
    ]


def _split(text: str) -> list[str]:
    return [part for part in _LIST_SEPARATORS.split(text or "") if part]


def _department(text: str, where: str, problems: list[str]) -> str | None:
    code = department_code(text)
    if code is None:
        problems.append(
            f"{where}: unknown department {text!r}: use e.g. {', '.join(v[0] for v in DEPARTMENT_NAMES.values())}"
        )
    return code


def _attributes(text: str, kind: str, where: str, problems: list[str]) -> list[str]:
    out = []
    for part in _split(text):
        code = attribute_code(part, kind)
        if code is None or code not in ITEM_ATTRIBUTES[kind]:
            problems.append(
                f"{where}: {part!r} is not an attribute of {kind} records; use {', '.join(ITEM_ATTRIBUTES[kind])}"
            )
        elif code not in out:
            out.append(code)
    return out


def _pull(row: dict[str, str], where: str, problems: list[str]) -> dict[str, Any] | None:
    source = row.get("pull", "")
    if not source:
        return None
    mark = row.get("pull_mark") or None
    if source.startswith(("http://", "https://")):
        url, _, collection = source.rstrip("/").rpartition("/collections/")
        if not collection:
            problems.append(f"{where}: an OGC API pull source is the collection's URL, …/collections/NAME")
            return None
        return {"kind": "ogcapi", "url": url, "collection": collection, "mark": mark}
    if _DSN_WITH_SECRET.match(source) or source.startswith(("postgresql://", "postgres://")):
        problems.append(
            f"{where}: a database pull source is named by an environment variable holding its DSN "
            "(env:ONEMAP_PULL_…), never by the DSN itself: credentials do not belong in the catalogue"
        )
        return None
    if source.startswith("env:"):
        if not row.get("pull_query"):
            problems.append(f"{where}: a database pull source needs its query (拉取查询)")
            return None
        return {"kind": "postgresql", "dsn_env": source[4:], "query": row["pull_query"], "mark": mark}
    problems.append(f"{where}: pull source {source!r}: give an OGC API collection URL or env:VARIABLE")
    return None


def read_workbook(path: Path) -> Catalogue:
    """The catalogue in a workbook; every problem found is reported at once (up to 20), row by row."""
    available = sheet_names(path)
    sheets = {name: _sheet_for(path, name, available) for name in SHEETS}
    problems: list[str] = []
    catalogue = Catalogue()
    for list_name in ("functions", "matters"):
        sheet = sheets[list_name]
        for row_no, row in _rows(path, list_name, sheet):
            where = f"{sheet} row {row_no}"
            department = _department(row["department"], where, problems)
            if not row.get("name"):
                problems.append(f"{where}: no name")
            if department and row.get("name"):
                entry = {k: v for k, v in row.items() if k != "department"}
                getattr(catalogue, list_name).append({"department": department, **entry})
    catalogue.items, catalogue.systems = _read_systems(path, sheets["systems"], problems)
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise CatalogueInvalid(f"{path.name}: " + "; ".join(problems[:MAX_PROBLEMS]) + more)
    if not catalogue.items:
        raise CatalogueInvalid(f"{path.name}: the system list (系统清单) holds no data item")
    return catalogue


def _read_systems(
    path: Path, sheet: str, problems: list[str]
) -> tuple[list[CatalogueItem], list[dict[str, str]]]:
    items: list[CatalogueItem] = []
    systems: dict[tuple[str, str], dict[str, str]] = {}
    for row_no, row in _rows(path, "systems", sheet):
        where = f"{sheet} row {row_no}"
        department = _department(row["department"], where, problems)
        kind = entity_code(row["entity_kind"])
        if kind is None:
            names = ", ".join(f"{v[0]} ({k})" for k, v in ENTITY_NAMES.items())
            problems.append(f"{where}: unknown entity kind {row['entity_kind']!r}: use {names}")
        frequency = frequency_code(row.get("frequency") or "daily")
        if frequency is None:
            problems.append(
                f"{where}: unknown update frequency {row['frequency']!r}: use "
                + ", ".join(f"{v[1][0]} ({k})" for k, v in FREQUENCIES.items())
            )
        if not row["system"] or not row["item"]:
            problems.append(f"{where}: a data item needs its system name (系统名称) and its name (数据项)")
        if department is None or kind is None or frequency is None or not row["system"] or not row["item"]:
            continue
        authoritative = _attributes(row.get("authoritative_for", ""), kind, where, problems)
        verifies = _attributes(row.get("verifies", ""), kind, where, problems)
        both = sorted(set(authoritative) & set(verifies))
        if both:
            problems.append(
                f"{where}: a department cannot both be the authority for and verify {', '.join(both)}"
            )
        systems.setdefault(
            (department, row["system"]),
            {
                "department": department,
                "name": row["system"],
                "description": row.get("description", ""),
                "contact": row.get("contact", ""),
            },
        )
        items.append(
            CatalogueItem(
                department,
                row["system"],
                row["item"],
                kind,
                authoritative,
                verifies,
                frequency,
                row.get("format", ""),
                row.get("contact", ""),
                _pull(row, where, problems),
            )
        )
    return items, list(systems.values())


def default_catalogue() -> Catalogue:
    document = yaml.safe_load(files(__package__).joinpath("catalog.yaml").read_text(encoding="utf-8"))
    catalogue = Catalogue(
        functions=[{k: str(v) for k, v in r.items()} for r in document["functions"]],
        matters=[
            {
                "department": r["department"],
                "name": r["name"],
                "function_name": r.get("function", ""),
                "kind": r.get("kind", ""),
            }
            for r in document["matters"]
        ],
    )
    for system in document["systems"]:
        catalogue.systems.append(
            {"department": system["department"], "name": system["name"], "contact": system.get("contact", "")}
        )
        for item in system["items"]:
            catalogue.items.append(
                CatalogueItem(
                    system["department"],
                    system["name"],
                    item["name"],
                    item["entity_kind"],
                    list(item.get("authoritative_for", [])),
                    list(item.get("verifies", [])),
                    item.get("frequency", "daily"),
                    item.get("format", ""),
                    system.get("contact", ""),
                    item.get("pull"),
                )
            )
    return catalogue


# ---------------------------------------------------------------------------------------------- storing


def store_catalogue(conn: psycopg.Connection, catalogue: Catalogue) -> dict[str, int]:
    """Replace the lists of the departments the catalogue holds, in one transaction."""
    departments = catalogue.departments
    with conn.transaction():
        conn.execute("DELETE FROM onemap.source_function WHERE department = ANY(%s)", [departments])
        conn.execute("DELETE FROM onemap.source_matter WHERE department = ANY(%s)", [departments])
        conn.execute("DELETE FROM onemap.source_system WHERE department = ANY(%s)", [departments])
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO onemap.source_function (department, name, description, basis) "
                "VALUES (%(department)s, %(name)s, %(description)s, %(basis)s) ON CONFLICT DO NOTHING",
                [{"description": "", "basis": "", **r} for r in catalogue.functions],
            )
            cursor.executemany(
                "INSERT INTO onemap.source_matter (department, name, function_name, kind, description) "
                "VALUES (%(department)s, %(name)s, %(function_name)s, %(kind)s, %(description)s) "
                "ON CONFLICT DO NOTHING",
                [{"function_name": "", "kind": "", "description": "", **r} for r in catalogue.matters],
            )
            cursor.executemany(
                "INSERT INTO onemap.source_system (department, name, description, contact) "
                "VALUES (%(department)s, %(name)s, %(description)s, %(contact)s) ON CONFLICT DO NOTHING",
                [{"description": "", "contact": "", **r} for r in catalogue.systems],
            )
            kept = [(i.department, i.entity_kind, i.name) for i in catalogue.items]
            conn.execute(
                "DELETE FROM onemap.source_item WHERE department = ANY(%s) "
                "AND (department, entity_kind, name) NOT IN (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))",
                [departments, [k[0] for k in kept], [k[1] for k in kept], [k[2] for k in kept]],
            )
            cursor.executemany(
                "INSERT INTO onemap.source_item (department, system_name, name, entity_kind, authoritative_for, "
                "verifies, frequency, format, contact, pull) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (department, entity_kind, name) DO UPDATE SET system_name = EXCLUDED.system_name, "
                "authoritative_for = EXCLUDED.authoritative_for, verifies = EXCLUDED.verifies, "
                "frequency = EXCLUDED.frequency, format = EXCLUDED.format, contact = EXCLUDED.contact, "
                "pull = EXCLUDED.pull",
                [
                    (
                        i.department,
                        i.system_name,
                        i.name,
                        i.entity_kind,
                        i.authoritative_for,
                        i.verifies,
                        i.frequency,
                        i.format,
                        i.contact,
                        Jsonb(i.pull) if i.pull else None,
                    )
                    for i in catalogue.items
                ],
            )
    return catalogue.counts()


def import_workbook(conn: psycopg.Connection, path: Path) -> dict[str, int]:
    return store_catalogue(conn, read_workbook(path))


def ensure_default_catalogue(conn: psycopg.Connection) -> bool:
    """Store the packaged catalogue when the database has none; True when it did."""
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM onemap.source_item)").fetchone()
    if row is not None and row[0]:
        return False
    store_catalogue(conn, default_catalogue())
    return True


def items_of(conn: psycopg.Connection, department: str | None = None) -> list[CatalogueItem]:
    rows = conn.execute(
        "SELECT department, system_name, name, entity_kind, authoritative_for, verifies, frequency, format, "
        "contact, pull FROM onemap.source_item WHERE %(d)s::text IS NULL OR department = %(d)s::text ORDER BY id",
        {"d": department},
    ).fetchall()
    return [CatalogueItem(*row) for row in rows]
