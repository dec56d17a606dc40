"""The package layout's rules: imports point down, one fact in one place, one error boundary."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pytest
import trainplan
from trainplan.cli.app import app
from trainplan.errors import TrainplanError
from trainplan.plan.routes import route_names, route_rules
from trainplan.plan.schema import shipped_schema
from typer.testing import CliRunner

from tests.conftest import REPO

PACKAGE = Path(trainplan.__file__).parent
STAGES = ("warehouse", "export", "inspect", "samples", "train")
BOTTOM = ("plan", "config", "errors")


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trainplan"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("trainplan"))
    return out


def _package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("package", [*STAGES, *BOTTOM[:2], "cli"])
def test_every_package_says_what_it_reads_and_writes(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8")))
    assert doc and "read" in doc.lower() and "write" in doc.lower()


def test_imports_point_down() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for module in _imports(path):
            target = _package_of(module)
            if own != "cli" and target == "cli":
                problems.append(f"{path.relative_to(PACKAGE)} imports the CLI ({module})")
            if own in BOTTOM and target in STAGES:
                problems.append(f"{path.relative_to(PACKAGE)} ({own}) imports a stage ({module})")
            if own == "inspect" and target == "export":
                problems.append(f"{path.relative_to(PACKAGE)}: inspect imports export ({module})")
    assert problems == []


def test_routes_are_one_seed_that_the_schema_and_python_read() -> None:
    with (REPO / "seeds" / "route_rules.csv").open(encoding="utf-8") as handle:
        seed = [row["route"] for row in sorted(csv.DictReader(handle), key=lambda r: int(r["display_order"]))]
    assert route_names() == seed
    assert shipped_schema()["$defs"]["route"]["enum"] == seed
    assert {r.route: r.job_priority for r in route_rules()}["ROUTE_BOTH"] == 3


def test_a_users_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    plan = tmp_path / "globals"
    (plan / "training_plan").mkdir(parents=True)
    (plan / "routing_plan").mkdir()
    (plan / "training_plan" / "master_training_plan.json").write_text('{"metadata": {}, "jobs": [], "summary": {}}')
    (plan / "routing_plan" / "routing_plan.json").write_text("{not json")
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "routing_plan.json" in lines[0] and lines[0].startswith("error:")


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr("trainplan.cli.inspect.load_training_plan", boom)
    result = CliRunner().invoke(app, ["summary", str(tmp_path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, KeyError)
    assert not isinstance(result.exception, TrainplanError)
