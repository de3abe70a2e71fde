"""Provision Metabase from content.json: the warehouse as a database (through bi_reader), then the
questions and dashboards the exposures name. Run once Metabase answers (docker-compose's
metabase-init service); idempotent: what exists (by name) is left alone, so it runs on every `up`.

Standard library only, so it runs in a bare python image. Settings from the environment:
METABASE_URL, METABASE_ADMIN_EMAIL, METABASE_ADMIN_PASSWORD (the admin the first run creates),
WAREHOUSE_DB_HOST, WAREHOUSE_DB_PORT, WAREHOUSE_DB_NAME, BI_READER_PASSWORD.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONTENT = HERE / "content.json"
READER = "bi_reader"
# A variable of a native query: {{name}}; an optional clause: [[ ... ]] (Metabase's syntax).
VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
# filter type in content.json -> (template tag type, dashboard parameter type, section)
FILTER_TYPES = {
    "text": ("text", "string/=", "string"),
    "number": ("number", "number/=", "number"),
    "date": ("date", "date/single", "date"),
}


class ContentError(ValueError):
    pass


def load_content(path: Path = CONTENT) -> dict[str, Any]:
    """content.json with every question's SQL read in, checked: every variable of a question is a
    filter of its dashboard and every filter feeds a variable; a variable used in an optional clause
    only is optional, any other one required."""
    content = json.loads(path.read_text())
    for dashboard in content["dashboards"]:
        filters = {item["slug"]: item for item in dashboard["filters"]}
        for item in filters.values():
            if item["type"] not in FILTER_TYPES:
                raise ContentError(
                    f"{dashboard['name']}: filter {item['slug']} has unknown type {item['type']}"
                )
        used: set[str] = set()
        for question in dashboard["questions"]:
            sql = (path.parent / question["file"]).read_text()
            question["sql"] = sql
            variables = set(VARIABLE.findall(sql))
            unknown = variables - filters.keys()
            if unknown:
                raise ContentError(f"{question['file']}: variables without a filter: {sorted(unknown)}")
            mandatory = set(VARIABLE.findall(OPTIONAL.sub("", sql)))
            for name in mandatory:
                if not filters[name].get("required"):
                    raise ContentError(
                        f"{question['file']}: {{{{{name}}}}} outside [[...]] needs a required filter"
                    )
            question["variables"] = sorted(variables)
            used |= variables
        if used != filters.keys():
            raise ContentError(
                f"{dashboard['name']}: filters feeding no question: {sorted(filters.keys() - used)}"
            )
    return content


def template_tags(question: dict[str, Any], filters: list[dict[str, Any]]) -> dict[str, Any]:
    by_slug = {item["slug"]: item for item in filters}
    tags = {}
    for name in question["variables"]:
        item = by_slug[name]
        tags[name] = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{question['name']}/{name}")),
            "name": name,
            "display-name": item["name"],
            "type": FILTER_TYPES[item["type"]][0],
            "required": bool(item.get("required")),
            "default": item.get("default"),
        }
    return tags


def card_payload(question: dict[str, Any], filters: list[dict[str, Any]], database_id: int) -> dict[str, Any]:
    return {
        "name": question["name"],
        "display": question["display"],
        "visualization_settings": {},
        "collection_id": None,
        "dataset_query": {
            "type": "native",
            "database": database_id,
            "native": {"query": question["sql"], "template-tags": template_tags(question, filters)},
        },
    }


def dashboard_parameters(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": item["slug"],
            "name": item["name"],
            "slug": item["slug"],
            "type": FILTER_TYPES[item["type"]][1],
            "sectionId": FILTER_TYPES[item["type"]][2],
            **({"default": item["default"]} if "default" in item else {}),
            **({"required": True} if item.get("required") and "default" in item else {}),
        }
        for item in dashboard["filters"]
    ]


def dashcards(dashboard: dict[str, Any], card_ids: dict[str, int]) -> list[dict[str, Any]]:
    """The questions one under the other, full width, each filter wired to its variable."""
    cards = []
    for position, question in enumerate(dashboard["questions"]):
        card_id = card_ids[question["name"]]
        cards.append(
            {
                "id": -1 - position,
                "card_id": card_id,
                "row": 8 * position,
                "col": 0,
                "size_x": 24,
                "size_y": 8,
                "parameter_mappings": [
                    {"parameter_id": name, "card_id": card_id, "target": ["variable", ["template-tag", name]]}
                    for name in question["variables"]
                ],
            }
        )
    return cards


def database_payload(content: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    return {
        "engine": "postgres",
        "name": content["database"]["name"],
        "details": {
            "host": env["WAREHOUSE_DB_HOST"],
            "port": int(env.get("WAREHOUSE_DB_PORT", "5432")),
            "dbname": env["WAREHOUSE_DB_NAME"],
            "user": READER,
            "password": env["BI_READER_PASSWORD"],
            "ssl": False,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": ",".join(content["database"]["schemas"]),
        },
    }


class Metabase:
    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/")
        self._session: str | None = None

    def call(self, method: str, path: str, body: object = None) -> Any:
        request = urllib.request.Request(
            self._url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"X-Metabase-Session": self._session} if self._session else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: HTTP {error.code}: {error.read().decode()[:500]}") from None
        return json.loads(text) if text else None

    def wait_until_up(self, timeout_s: float = 600) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.call("GET", "/api/health").get("status") == "ok":
                    return
            except (OSError, RuntimeError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Metabase at {self._url} did not come up in {timeout_s:.0f} s")
            time.sleep(5)

    def log_in(self, email: str, password: str) -> None:
        """Create the admin on a new Metabase (first start), else log in as it."""
        properties = self.call("GET", "/api/session/properties")
        if not properties.get("has-user-setup"):
            user = {"email": email, "password": password, "first_name": "Warehouse", "last_name": "Admin"}
            prefs = {"site_name": "Notification warehouse", "allow_tracking": False}
            answer = self.call(
                "POST", "/api/setup", {"token": properties["setup-token"], "user": user, "prefs": prefs}
            )
        else:
            answer = self.call("POST", "/api/session", {"username": email, "password": password})
        self._session = answer["id"]

    def by_name(self, path: str) -> dict[str, int]:
        items = self.call("GET", path)
        items = items["data"] if isinstance(items, dict) else items
        return {item["name"]: item["id"] for item in items}


def provision(metabase: Metabase, content: dict[str, Any], env: dict[str, str]) -> None:
    databases = metabase.by_name("/api/database")
    name = content["database"]["name"]
    database_id = (
        databases.get(name) or metabase.call("POST", "/api/database", database_payload(content, env))["id"]
    )
    existing_cards = metabase.by_name("/api/card")
    existing_dashboards = metabase.by_name("/api/dashboard")
    for dashboard in content["dashboards"]:
        card_ids = {}
        for question in dashboard["questions"]:
            card_ids[question["name"]] = (
                existing_cards.get(question["name"])
                or metabase.call(
                    "POST", "/api/card", card_payload(question, dashboard["filters"], database_id)
                )["id"]
            )
        if dashboard["name"] in existing_dashboards:
            continue
        created = metabase.call(
            "POST", "/api/dashboard", {"name": dashboard["name"], "description": dashboard["description"]}
        )
        metabase.call(
            "PUT",
            f"/api/dashboard/{created['id']}",
            {"parameters": dashboard_parameters(dashboard), "dashcards": dashcards(dashboard, card_ids)},
        )
        print(f"dashboard {dashboard['name']!r} created", flush=True)


def main() -> int:
    env = dict(os.environ)
    missing = [
        key
        for key in ("METABASE_URL", "METABASE_ADMIN_EMAIL", "METABASE_ADMIN_PASSWORD", "WAREHOUSE_DB_HOST",
                    "WAREHOUSE_DB_NAME", "BI_READER_PASSWORD")
        if not env.get(key)
    ]  # fmt: skip
    if missing:
        print(f"error: set {', '.join(missing)}", file=sys.stderr)
        return 2
    metabase = Metabase(env["METABASE_URL"])
    try:
        content = load_content()
        metabase.wait_until_up()
        metabase.log_in(env["METABASE_ADMIN_EMAIL"], env["METABASE_ADMIN_PASSWORD"])
        provision(metabase, content, env)
    except (ContentError, RuntimeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("Metabase provisioned", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
