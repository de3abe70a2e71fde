"""Running dbt against the current warehouse.

dbt reads its connection only through env_var() in profiles/profiles.yml; this module derives
those variables from the warehouse DSN so the CLI, the service and a shell (`warehouse exec`)
all point dbt at the same server.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from loader import PROJECT_DIR
from loader.db import dbt_env, resolve_dsn
from loader.settings import Settings

log = logging.getLogger(__name__)


def environment(settings: Settings) -> dict[str, str]:
    """os.environ plus the warehouse connection for dbt (and for tools that run dbt)."""
    return {
        **os.environ,
        **dbt_env(resolve_dsn(settings)),
        "WAREHOUSE_DBT_TARGET": settings.dbt_target,
        "DBT_PROJECT_DIR": str(PROJECT_DIR),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        # so `warehouse exec -- dbt ...` finds the tools of the environment warehouse runs in
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def invoke(settings: Settings, args: Sequence[str]) -> bool:
    """Run one dbt command in-process (dbtRunner); True when it succeeded."""
    from dbt.cli.main import dbtRunner  # imported lazily: dbt takes ~1 s to import

    os.environ.update(environment(settings))
    result = dbtRunner().invoke(list(args))
    if result.exception is not None:
        # dbtRunner returns usage errors instead of printing them
        log.error("dbt %s failed: %s", " ".join(args), result.exception)
    return bool(result.success)
