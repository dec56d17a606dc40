"""The built wheel works outside a checkout: it carries the dbt project, runs the demo and imports the train API."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

UV = Path(sys.executable).parent / "uv"


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([str(UV), "build", "--wheel", "--out-dir", str(out), str(REPO)], cwd=out)
    (built,) = out.glob("trainplan-*.whl")
    return built


def test_wheel_carries_the_dbt_project(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "trainplan/_project/dbt_project.yml",
        "trainplan/_project/profiles.yml",
        "trainplan/_project/seeds/route_rules.csv",
        "trainplan/_project/CONFIG/training_config/routing_config.yaml",
        "trainplan/plan/schemas/master_training_plan.schema.json",
        "trainplan/train/__init__.py",
    ):
        assert required in names, required
    assert any(n.startswith("trainplan/_project/models/marts/") and n.endswith(".sql") for n in names)
    assert any(n.startswith("trainplan/_project/macros/") for n in names)
    assert not any(n.startswith("trainplan/_project/target/") or "/.trainplan/" in n for n in names)


def test_installed_wheel_runs_the_demo_outside_a_checkout(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([str(UV), "venv", "--python", sys.executable, str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([str(UV), "pip", "install", "--python", str(python), "-r", str(REPO / "requirements.lock")], cwd=tmp_path)
    _run([str(UV), "pip", "install", "--python", str(python), "--no-deps", str(wheel)], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINPLAN_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    demo = _run([str(venv / "bin" / "trainplan"), "demo"], cwd=elsewhere, env=env)
    assert "jobs: 43" in demo.stdout
    state = elsewhere / ".trainplan"
    assert (state / "demo" / "globals" / "training_plan" / "master_training_plan.json").is_file()
    assert (state / "demo" / "sample_run" / "targets").is_dir()  # the sample was generated: no checkout here
    site = Path(_run([str(python), "-c", "import trainplan; print(trainplan.__file__)"], cwd=elsewhere).stdout.strip())
    package = site.parent
    assert not (package / "_project" / "target").exists() and not (package / "_project" / "logs").exists()

    summary = _run([str(venv / "bin" / "trainplan"), "summary"], cwd=elsewhere, env=env)
    assert "ROUTE_BOTH" in summary.stdout  # the demo's database is found without --db
    _run([str(python), "-c", "import trainplan.train"], cwd=elsewhere, env=env)
