"""Exposures: everything a dashboard or the portal reads is readable by bi_reader, nothing else is."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from loader import PROJECT_DIR, db, dbt
from loader.settings import Settings
from tests import sample_warehouse

BI_SCHEMAS = set(db.BI_SCHEMAS)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The project as dbt parses it (no database needed)."""
    target = tmp_path_factory.mktemp("target")
    settings = dataclasses.replace(Settings.from_env(), dsn="postgresql://parse@127.0.0.1:1/parse")
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", "--quiet", "--target-path", str(target)],
        env=dbt.environment(settings),
        cwd=PROJECT_DIR,
        check=True,
    )
    return json.loads((target / "manifest.json").read_text())


def _relation(node: dict) -> sql.Composed:
    return sql.SQL("{}.{}").format(
        sql.Identifier(node["schema"]), sql.Identifier(node.get("alias") or node["name"])
    )


def test_bi_reader_selects_every_exposure_parent_and_nothing_outside_the_marts(warehouse, conn, manifest):
    sample_warehouse.build(conn)
    nodes = {**manifest["nodes"], **manifest["sources"]}
    exposures = manifest["exposures"].values()
    parents = {parent for exposure in exposures for parent in exposure["depends_on"]["nodes"]}
    assert {manifest["exposures"][key]["name"] for key in manifest["exposures"]} >= {
        "notification_panel_dashboard",
        "notification_detail_explorer",
        "notification_billing_dashboard",
        "notification_billing_report",
        "customer_portal",
    }
    elsewhere = [
        node
        for node in nodes.values()
        if node["resource_type"] in ("model", "seed", "source") and node["schema"] not in BI_SCHEMAS
    ]
    assert {node["schema"] for node in elsewhere} == {"raw", "staging", "intermediate", "seeds", "ops"}
    ops = [row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'ops'")]
    assert ops

    with psycopg.connect(db.reader_dsn(warehouse), autocommit=True) as reader:
        for parent in sorted(parents):
            node = nodes[parent]
            assert node["schema"] in BI_SCHEMAS, f"{parent} is not in the marts"
            assert node["config"]["contract"]["enforced"], f"{parent} has no enforced contract"
            assert node["access"] == "public", parent
            reader.execute(sql.SQL("select * from {} limit 1").format(_relation(node)))
        refused = [_relation(node) for node in elsewhere]
        refused += [sql.SQL("ops.{}").format(sql.Identifier(table)) for table in ops]
        for relation in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(sql.SQL("select 1 from {} limit 1").format(relation))


def test_every_source_has_freshness(manifest):
    for source in manifest["sources"].values():
        freshness = source["freshness"] or {}
        assert (freshness.get("error_after") or {}).get("count"), f"{source['unique_id']} has no freshness"
        assert source["loaded_at_field"], source["unique_id"]


def test_layers_point_one_way(manifest):
    layer_order = {"staging": 0, "intermediate": 1, "marts": 2}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        layer = node["fqn"][1]
        for parent in node["depends_on"]["nodes"]:
            parent_node = manifest["nodes"].get(parent)
            if parent_node is None or parent_node["resource_type"] != "model":
                continue
            assert layer_order[parent_node["fqn"][1]] <= layer_order[layer], f"{node['name']} refs {parent}"
