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
from typing import TYPE_CHECKING

import yaml

from loader import PROJECT_DIR
from loader.db import dbt_env, resolve_dsn
from loader.settings import Settings

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunner, dbtRunnerResult

log = logging.getLogger(__name__)


def environment(settings: Settings) -> dict[str, str]:
    """os.environ plus the warehouse connection for dbt (and for tools that run dbt)."""
    return {
        **os.environ,
        **dbt_env(resolve_dsn(settings)),
        "WAREHOUSE_DBT_TARGET": settings.dbt_target,
        # as if `--target` were given: dbt's partial parsing then reparses when the target changes,
        # which it does not notice from profiles.yml (both targets have one connection)
        "DBT_TARGET": settings.dbt_target,
        "DBT_PROJECT_DIR": str(PROJECT_DIR),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        # so `warehouse exec -- dbt ...` finds the tools of the environment warehouse runs in
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def project_var(name: str) -> object:
    """A var as dbt_project.yml sets it (what dbt uses when no --vars overrides it)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    return project["vars"][name]


def _succeeded(args: Sequence[str], result: dbtRunnerResult) -> bool:
    if result.exception is not None:
        # dbtRunner returns usage errors instead of printing them
        log.error("dbt %s failed: %s", " ".join(args), result.exception)
    return bool(result.success)


def invoke(settings: Settings, args: Sequence[str]) -> bool:
    """Run one dbt command in-process (dbtRunner); True when it succeeded."""
    from dbt.cli.main import dbtRunner  # imported lazily: dbt takes ~1 s to import

    os.environ.update(environment(settings))
    return _succeeded(args, dbtRunner().invoke(list(args)))


class Session:
    """dbt commands run in-process on one parsed project, for a long-running process.

    Parsing the project takes seconds here; a run on the parsed manifest starts at once (the
    minutely run: ~1 s instead of several). --vars still apply per command. Model files changed on
    disk are seen after a restart. Commands write no JSON artifacts: the parse wrote the manifest,
    which does not change, and rewriting it took 0.2 s of CPU a minutely run. The ops tables keep
    each run's outcome instead of run_results.json (so `dbt retry` has nothing to retry from).
    Not thread-safe, like dbt's runner: one thread invokes.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._runner: dbtRunner | None = None
        self.last_result: dbtRunnerResult | None = None

    def invoke(self, args: Sequence[str]) -> bool:
        from dbt.cli.main import dbtRunner

        os.environ.update(environment(self._settings))
        if self._runner is None:
            parsed = dbtRunner().invoke(["parse", "--quiet"])
            if not _succeeded(["parse"], parsed):
                return False
            self._runner = dbtRunner(manifest=parsed.result)
        self.last_result = self._runner.invoke([*args, "--no-write-json"])
        return _succeeded(args, self.last_result)
