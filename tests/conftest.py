"""Shared fixtures: the bundled sample, refreshed once per test session into a temporary folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from hypothesis import settings as hypothesis_settings
from trainplan.config.settings import make_settings, project_dir
from trainplan.export.refresh import refresh

# CI runs the property tests on a fixed example sequence so that a landing never depends on the draw;
# locally they explore new examples every run. Neither has Hypothesis's per-example deadline: a test never
# asserts on wall-clock time, and one example held up on a busy machine would fail it.
hypothesis_settings.register_profile("local", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "local")

REPO = project_dir()


@pytest.fixture(scope="session", autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """trainplan's state folder (dbt's target/, last_refresh.json) in a temporary folder, not the checkout's."""
    state = tmp_path_factory.mktemp("state")
    before = os.environ.get("TRAINPLAN_STATE_DIR")
    os.environ["TRAINPLAN_STATE_DIR"] = str(state)
    yield state
    if before is None:
        os.environ.pop("TRAINPLAN_STATE_DIR", None)
    else:
        os.environ["TRAINPLAN_STATE_DIR"] = before


SAMPLE_RUN = REPO / "examples" / "sample_run"


@dataclass(frozen=True)
class Built:
    """A refreshed run: where its database and plan landed."""

    run_dir: Path
    out_dir: Path
    db_path: Path
    master_plan: Path

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.db_path), read_only=True)


def build(run_dir: Path, out_dir: Path, policy: Path | None = None) -> Built:
    settings = make_settings(run_dir=run_dir, out_dir=out_dir, db_path=out_dir / "db.duckdb", policy_path=policy)
    result = refresh(settings)
    return Built(run_dir=run_dir, out_dir=out_dir, db_path=result.db_path, master_plan=result.master_plan)


@pytest.fixture(scope="session")
def sample_built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(SAMPLE_RUN, tmp_path_factory.mktemp("sample_out"))


@pytest.fixture()
def sample_con(sample_built: Built) -> Iterator[duckdb.DuckDBPyConnection]:
    con = sample_built.connect()
    yield con
    con.close()
