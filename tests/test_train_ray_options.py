"""The Ray executor without a cluster: the policy's `training:` section, the options, the local executor never
importing ray, and the one-line install hint when ray is missing."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from trainplan.config.training_policy import (
    JobResources,
    ResourceOverrides,
    TrainingPolicyInvalid,
    load_training_policy,
    parse_training_section,
)

from tests.conftest import REPO
from tests.train_support import TRAINER, plan_document, train, write_plan

POLICY = Path("policy.yaml")


def test_resources_default_then_the_largest_family_then_the_overrides() -> None:
    policy = parse_training_section(
        POLICY,
        {
            "resources": {
                "default": {"cpus": 2},
                "families": {"xgboost": {"cpus": 4}, "mlp": {"gpus": 1, "memory_gb": 8}, "lasso": {"cpus": 0.5}},
            }
        },
    )
    assert policy.resources_for(["lasso"]) == JobResources(2, 0, 0)
    assert policy.resources_for(["lightgbm"]) == JobResources(2, 0, 0)
    assert policy.resources_for(["xgboost", "mlp"]) == JobResources(4, 1, 8)
    assert policy.resources_for(["mlp"], ResourceOverrides(gpus=0.5)) == JobResources(2, 0.5, 8)
    assert policy.resources_for([], ResourceOverrides(1, 2, 3)) == JobResources(1, 2, 3)
    assert parse_training_section(POLICY, None).resources_for(["x"]) == JobResources(1, 0, 0)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"resource": {}}, "key 'training.resource' is not a known key; allowed keys under 'training': resources"),
        ({"resources": {"defaults": {}}}, "key 'training.resources.defaults' is not a known key"),
        ({"resources": {"default": {"cpu": 1}}}, "key 'training.resources.default.cpu' is not a known key"),
        ({"resources": {"default": {"cpus": -1}}}, "key 'training.resources.default.cpus': expected a finite"),
        ({"resources": {"families": {"mlp": {"gpus": math.nan}}}}, "key 'training.resources.families.mlp.gpus'"),
        ({"resources": {"families": {"mlp": {"memory_gb": math.inf}}}}, "families.mlp.memory_gb': expected"),
        ({"resources": {"families": {"mlp": {"gpus": True}}}}, "got True"),
        ({"resources": {"families": {"mlp": {"gpus": "1"}}}}, "got '1'"),
        ({"resources": {"families": ["mlp"]}}, "key 'training.resources.families': expected a mapping"),
        ({"resources": {"families": {"mlp": 1}}}, "key 'training.resources.families.mlp': expected a mapping"),
        ([1], "key 'training': expected a mapping"),
    ],
)
def test_the_training_section_is_validated_strictly(section: object, message: str) -> None:
    with pytest.raises(TrainingPolicyInvalid) as info:
        parse_training_section(POLICY, section)
    assert message in str(info.value) and str(info.value).startswith("policy.yaml: key '")


def test_the_shipped_policy_has_no_training_section_and_reads_as_the_defaults() -> None:
    policy = load_training_policy(REPO / "CONFIG" / "training_config" / "routing_config.yaml")
    assert policy.resources_for(["lightgbm", "xgboost"]) == JobResources(1, 0, 0)


def test_a_bad_training_section_stops_train_with_exit_2(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document())
    policy = tmp_path / "policy.yaml"
    policy.write_text("routing: {}\ntraining:\n  resources:\n    default: {cpus: -2}\n")
    code, out = train(root, tmp_path / "ledger", "--trainer", TRAINER, "--executor", "ray", "--policy", str(policy))
    assert code == 2
    assert f"{policy}: key 'training.resources.default.cpus': expected a finite number >= 0, got -2" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--executor", "spark"), "--executor 'spark': expected one of local, ray"),
        (("--address", "h:1"), "--address: only with --executor ray"),
        (("--gpus-per-job", "1", "--cpus-per-job", "2"), "--cpus-per-job, --gpus-per-job: only with --executor ray"),
    ],
)
def test_ray_options_need_the_ray_executor(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    root = write_plan(tmp_path / "plan", plan_document())
    code, out = train(root, tmp_path / "ledger", "--trainer", TRAINER, *args)
    assert code == 2 and message in out


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_the_local_executor_never_imports_ray(tmp_path: Path) -> None:
    """A whole local `train` (CLI, run, scheduler, local executor, workers' payload) leaves `ray` unimported."""
    root = write_plan(tmp_path / "plan", plan_document())
    proc = _python(
        f"""
        import sys
        from typer.testing import CliRunner
        from trainplan.cli.app import app
        import trainplan.train.local, trainplan.train.run, trainplan.train.scheduler, trainplan.train.worker
        assert 'ray' not in sys.modules, 'imported by the modules'
        result = CliRunner().invoke(app, ["train", "--plan", {str(root)!r}, "--ledger", {str(tmp_path / "l")!r},
                                          "--allow-stale", "--trainer", {TRAINER!r}, "--workers", "1"])
        assert result.exit_code == 0, result.output
        print("ray imported:", 'ray' in sys.modules)
        """
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "ray imported: False"


def test_without_ray_the_ray_executor_is_a_one_line_error(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "plan", plan_document())
    proc = _python(
        f"""
        import sys
        sys.modules["ray"] = None  # `import ray` raises ImportError, as when it is not installed
        from trainplan.cli import main
        sys.argv = ["trainplan", "train", "--plan", {str(root)!r}, "--ledger", {str(tmp_path / "l")!r},
                    "--allow-stale", "--trainer", {TRAINER!r}, "--executor", "ray"]
        main()
        """
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    said = (proc.stdout + proc.stderr).strip().splitlines()
    assert said[-1].endswith("--executor ray needs Ray, which is not installed: pip install 'trainplan[ray]'")
    assert "Traceback" not in proc.stderr
