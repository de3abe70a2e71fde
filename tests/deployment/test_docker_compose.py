"""docker-compose.yml cannot run here (no Docker engine): check statically what can be checked."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from loader import PROJECT_DIR

COMPOSE = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {"kafka-init", "warehouse-init", "metabase-init"}
BI = {"metabase", "metabase-init"}
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:[:?-][^}]*)?\}")


def _env(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in SERVICES[service].get("environment", {}).items()}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_image_is_pinned_to_a_version(name):
    service = SERVICES[name]
    if "build" in service:
        image = (PROJECT_DIR / "Dockerfile").read_text().split("FROM ", 1)[1].split()[0]
    else:
        image = service["image"]
    repository, _, tag = image.rpartition(":")
    assert repository and tag, f"{name}: {image} has no tag"
    assert tag != "latest" and re.search(r"\d+\.\d+", tag), f"{name}: {image} is not pinned to a version"


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT))
def test_long_running_services_have_health_checks_and_restart(name):
    assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES[name]["restart"] == "unless-stopped"


def test_stateful_services_use_named_volumes():
    for name in ("timescaledb", "kafka", "metabase"):
        for volume in SERVICES[name]["volumes"]:
            assert volume.split(":")[0] in COMPOSE["volumes"], f"{name}: {volume} is not a named volume"


def test_service_is_wired_to_timescaledb_and_kafka_through_env():
    env = _env("warehouse")
    assert "@timescaledb:5432/" in env["WAREHOUSE_DSN"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["WAREHOUSE_DBT_TARGET"] == "timescale"
    depends = SERVICES["warehouse"]["depends_on"]
    assert depends["timescaledb"]["condition"] == "service_healthy"
    assert depends["kafka-init"]["condition"] == "service_completed_successfully"
    # the schema (and with the timescale target the hypertables) exists before the service starts
    assert depends["warehouse-init"]["condition"] == "service_completed_successfully"
    assert "warehouse up" in SERVICES["warehouse-init"]["entrypoint"][-1]
    assert _env("warehouse-init") == env
    assert SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft


def test_portal_serves_through_its_own_role_on_a_local_port():
    portal = SERVICES["portal"]
    assert portal["command"] == ["serve", "--host", "0.0.0.0", "--port", "8080"]
    assert portal["ports"] == ["127.0.0.1:${PORTAL_PORT:-8080}:8080"]
    env = _env("portal")
    assert env["WAREHOUSE_PORTAL_SECRET"] == "${WAREHOUSE_PORTAL_SECRET:?set in .env}"
    assert env["PORTAL_READER_PASSWORD"] == _env("warehouse-init")["PORTAL_READER_PASSWORD"]
    # the portal's role on the service's server and database, and no superuser credential
    assert env["WAREHOUSE_DSN"] == _env("warehouse")["WAREHOUSE_DSN"].replace(
        "${POSTGRES_USER:?set in .env}:${POSTGRES_PASSWORD:?set in .env}", "portal_reader"
    )
    assert not any("POSTGRES_PASSWORD" in value or "BI_READER" in value for value in env.values())
    assert portal["depends_on"]["warehouse-init"]["condition"] == "service_completed_successfully"
    assert "/healthz" in portal["healthcheck"]["test"][-1]


def test_metabase_only_in_bi_profile():
    assert all(SERVICES[name]["profiles"] == ["bi"] for name in BI)
    assert all("profiles" not in service for name, service in SERVICES.items() if name not in BI)


def test_metabase_is_provisioned_through_bi_reader_once_it_is_healthy():
    init = SERVICES["metabase-init"]
    assert init["depends_on"]["metabase"]["condition"] == "service_healthy"
    assert init["volumes"] == ["./bi/metabase:/provisioning:ro"]
    assert init["entrypoint"] == ["python", "/provisioning/provision.py"]
    env = _env("metabase-init")
    assert env["WAREHOUSE_DB_HOST"] == "timescaledb"
    assert env["BI_READER_PASSWORD"] == _env("warehouse")["BI_READER_PASSWORD"]


def test_no_secret_committed():
    text = (PROJECT_DIR / "docker-compose.yml").read_text()
    for name in SERVICES:
        for key, value in _env(name).items():
            if any(word in key for word in ("PASSWORD", "SECRET", "TOKEN")):
                assert INTERPOLATION.fullmatch(value), f"{name}.{key} must come from .env"
    assert "${POSTGRES_PASSWORD:?" in text  # required, never defaulted
    tracked = subprocess.run(["git", "ls-files", ".env"], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert tracked.stdout.strip() == "", ".env must not be committed"


def test_env_example_documents_every_variable():
    example = (PROJECT_DIR / ".env.example").read_text()
    documented = {line.split("=", 1)[0] for line in example.splitlines() if line and not line.startswith("#")}
    used = set(INTERPOLATION.findall((PROJECT_DIR / "docker-compose.yml").read_text()))
    assert used <= documented, f"not in .env.example: {sorted(used - documented)}"


def test_timescaledb_is_the_release_the_tests_ran_on_without_telemetry():
    timescaledb = SERVICES["timescaledb"]
    # TimescaleDB 2.29.2 on PostgreSQL 18: what tests/deployment/test_timescale_live.py ran on
    assert timescaledb["image"] == "timescale/timescaledb:2.29.2-pg18"
    command = timescaledb["command"]
    assert command[0] == "postgres"
    settings = [command[i + 1] for i, arg in enumerate(command) if arg == "-c"]
    assert "timescaledb.telemetry_level=off" in settings
    # PostgreSQL 18 images keep their data below /var/lib/postgresql (18/docker), not in .../data
    assert timescaledb["volumes"] == ["timescaledb-data:/var/lib/postgresql"]
    deployment = (PROJECT_DIR / "docs" / "deployment.md").read_text()
    assert "`timescale/timescaledb:2.29.2-pg18`" in deployment
    assert "TimescaleDB 2.29.2 on PostgreSQL 18" in deployment
