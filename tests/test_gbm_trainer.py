"""The example trainer (examples/trainers/gbm_trainer.py): real held-out scores, excluded features left out of the
model, unknown families reported, model files written, the same result on every run."""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pytest
from sklearn.metrics import r2_score, roc_auc_score
from trainplan.plan.model import Job, Plan
from trainplan.samples.sample import DEFAULT_SYMBOLS
from trainplan.train.context import TrainContext

from examples.trainers import gbm_trainer
from tests.conftest import REPO, Built
from tests.plan_docs import cs_job, sym_job

TRAINER_FILE = REPO / "examples" / "trainers" / "gbm_trainer.py"
SKLEARN_FAMILY = "hist_gradient_boosting"


def _context(tmp_path: Path, name: str = "job") -> TrainContext:
    return TrainContext("run", "0123456789abcdef", tmp_path / name, 1, logging.getLogger("test_gbm_trainer"))


def _job(doc: dict[str, Any]) -> Job:
    return Job.from_document(doc, 0)


def _trained(metrics: dict[str, Any], family: str) -> dict[str, Any]:
    result = metrics["families"][family]
    assert result["status"] == "trained", result
    return result


def _predict(family: str, model_path: Path, X: np.ndarray, task: str) -> np.ndarray:
    """Predictions of a written model file, loaded the way a user would load it."""
    if family == "lightgbm":
        return lightgbm.Booster(model_file=str(model_path)).predict(X)
    saved = pickle.loads(model_path.read_bytes())
    model = saved["model"]
    return model.predict_proba(X)[:, 1] if task == "binary" else model.predict(X)


@pytest.fixture()
def no_xgboost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gbm_trainer, "xgboost", None)


# --- the score is a real held-out score -----------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "task"), [("fwd_ret_60m", "regression"), ("y_up_5d", "binary")])
def test_the_reported_score_is_the_written_models_score_on_later_rows(target: str, task: str, tmp_path: Path) -> None:
    job = _job(cs_job(target, families=["lightgbm", SKLEARN_FAMILY]))
    metrics = gbm_trainer.train(job, _context(tmp_path))
    assert metrics["task"] == task
    panel = gbm_trainer.make_panel(target, DEFAULT_SYMBOLS, task)
    cut = metrics["panel"]["test_from_time"]
    assert 0 < cut < gbm_trainer.ROWS_PER_SYMBOL
    test = panel.time >= cut
    for family in ("lightgbm", SKLEARN_FAMILY):
        result = _trained(metrics, family)
        assert result["n_test"] == int(test.sum()) and result["n_train"] == int((~test).sum())
        assert result["n_train"] + result["n_test"] == len(DEFAULT_SYMBOLS) * gbm_trainer.ROWS_PER_SYMBOL
        pred = _predict(family, Path(result["model_path"]), panel.X[test], task)
        if task == "binary":
            assert result["metric"] == "roc_auc"
            assert result["score"] == pytest.approx(roc_auc_score(panel.y[test], pred))
            assert result["baseline_score"] == pytest.approx(0.5)
        else:
            assert result["metric"] == "r2"
            assert result["score"] == pytest.approx(r2_score(panel.y[test], pred))
            mean = np.full(int(test.sum()), panel.y[~test].mean())
            assert result["baseline_score"] == pytest.approx(r2_score(panel.y[test], mean))
        assert result["score"] > result["baseline_score"]


@pytest.mark.parametrize("family", ["lightgbm", SKLEARN_FAMILY])
@pytest.mark.parametrize(("target", "task"), [("fwd_ret_5m", "regression"), ("y_will_peak_60m_0.8", "binary")])
def test_a_model_trained_on_shuffled_labels_scores_clearly_worse(
    family: str, target: str, task: str, tmp_path: Path
) -> None:
    panel = gbm_trainer.make_panel(target, DEFAULT_SYMBOLS, task)
    train, test = gbm_trainer.time_split(panel)
    (tmp_path / "real").mkdir()
    (tmp_path / "shuffled").mkdir()
    real = gbm_trainer.fit_family(family, train, test, tmp_path / "real", 7)
    shuffled_train = gbm_trainer.Panel(
        train.features, train.X, np.random.default_rng(7).permutation(train.y), train.time, train.task
    )
    shuffled = gbm_trainer.fit_family(family, shuffled_train, test, tmp_path / "shuffled", 7)
    lift = real["score"] - real["baseline_score"]
    assert lift > 0
    # labels without their features keep less than half of the lift the real labels give
    assert shuffled["score"] - shuffled["baseline_score"] < lift / 2


def test_the_test_rows_are_later_in_time_for_every_symbol() -> None:
    panel = gbm_trainer.make_panel("fwd_ret_5m", ["AAA", "BBB", "CCC"], "regression")
    train, test = gbm_trainer.time_split(panel)
    assert train.time.max() < test.time.min()
    assert len(train.y) + len(test.y) == len(panel.y)
    assert len(test.y) == 3 * round(gbm_trainer.ROWS_PER_SYMBOL * gbm_trainer.TEST_FRACTION)


# --- the job's excluded features, families and symbols --------------------------------------------------------------


def test_excluded_features_are_not_inputs_of_any_model(tmp_path: Path) -> None:
    excluded = ["feat_000", "feat_003", "close_price"]
    job = _job(cs_job("fwd_ret_5m", families=["lightgbm", SKLEARN_FAMILY], excluded=excluded))
    metrics = gbm_trainer.train(job, _context(tmp_path))
    kept = [f for f in gbm_trainer.feature_names() if f not in excluded]
    assert metrics["features"] == kept
    assert metrics["excluded_features"] == excluded
    assert metrics["excluded_not_in_panel"] == ["close_price"]
    booster = lightgbm.Booster(model_file=_trained(metrics, "lightgbm")["model_path"])
    assert booster.feature_name() == kept
    saved = pickle.loads(Path(_trained(metrics, SKLEARN_FAMILY)["model_path"]).read_bytes())
    assert saved["features"] == kept and saved["model"].n_features_in_ == len(kept)
    assert _trained(metrics, "lightgbm")["n_features"] == len(kept)


def test_excluding_the_strongest_feature_lowers_the_score(tmp_path: Path) -> None:
    # the label leans most on feat_000: if the exclusion did not reach the model, both scores would be equal
    with_it = gbm_trainer.train(_job(cs_job("fwd_ret_60m", families=["lightgbm"])), _context(tmp_path, "a"))
    without = gbm_trainer.train(
        _job(cs_job("fwd_ret_60m", families=["lightgbm"], excluded=["feat_000"])), _context(tmp_path, "b")
    )
    assert _trained(without, "lightgbm")["score"] < _trained(with_it, "lightgbm")["score"]


def test_unknown_families_and_a_missing_package_are_reported_as_skipped(tmp_path: Path, no_xgboost: None) -> None:
    job = _job(cs_job("fwd_ret_5m", families=["tab_cnn", "lightgbm", "xgboost"]))
    metrics = gbm_trainer.train(job, _context(tmp_path))
    assert list(metrics["families"]) == ["tab_cnn", "lightgbm", "xgboost"]
    assert metrics["trained"] == ["lightgbm"] and metrics["skipped"] == ["tab_cnn", "xgboost"]
    assert metrics["families"]["tab_cnn"] == {
        "status": "skipped",
        "reason": metrics["families"]["tab_cnn"]["reason"],
    }
    assert "'tab_cnn'" in metrics["families"]["tab_cnn"]["reason"]
    assert "xgboost package is not installed" in metrics["families"]["xgboost"]["reason"]
    assert sorted(p.name for p in (tmp_path / "job").iterdir()) == ["lightgbm.txt"]


def test_a_symbol_job_trains_on_its_symbol_and_a_cs_job_on_the_listed_symbols(tmp_path: Path) -> None:
    symbol_job = _job(sym_job("fwd_ret_4h", "NVDA", families=["lightgbm"]))
    metrics = gbm_trainer.train(symbol_job, _context(tmp_path, "sym"))
    assert metrics["panel"]["symbols"] == ["NVDA"] and metrics["symbol"] == "NVDA"
    result = _trained(metrics, "lightgbm")
    assert result["n_train"] + result["n_test"] == gbm_trainer.ROWS_PER_SYMBOL
    listed = cs_job("fwd_ret_4h", families=["lightgbm"])
    listed["metadata"]["symbols"] = ["AAA", "BBB"]
    metrics = gbm_trainer.train(_job(listed), _context(tmp_path, "cs"))
    assert metrics["panel"]["symbols"] == ["AAA", "BBB"]
    assert sum(_trained(metrics, "lightgbm")[k] for k in ("n_train", "n_test")) == 2 * gbm_trainer.ROWS_PER_SYMBOL


def test_a_job_with_every_feature_excluded_fails(tmp_path: Path) -> None:
    job = _job(cs_job("fwd_ret_5m", excluded=gbm_trainer.feature_names()))
    with pytest.raises(ValueError, match="every feature"):
        gbm_trainer.train(job, _context(tmp_path))


# --- files, determinism, loading ------------------------------------------------------------------------------------


def _without_paths(metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        **metrics,
        "families": {f: {k: v for k, v in r.items() if k != "model_path"} for f, r in metrics["families"].items()},
    }


def test_two_runs_give_the_same_metrics_and_the_same_model_files(tmp_path: Path) -> None:
    doc = sym_job("y_up_5d", "MSFT", families=["lightgbm", SKLEARN_FAMILY], excluded=["feat_002"])
    first = gbm_trainer.train(_job(doc), _context(tmp_path, "one"))
    second = gbm_trainer.train(doc, _context(tmp_path, "two"))  # a plain job document works too
    assert _without_paths(first) == _without_paths(second)
    assert json.loads(json.dumps(first)) == first  # JSON-serialisable as it is
    for family in ("lightgbm", SKLEARN_FAMILY):
        a, b = Path(first["families"][family]["model_path"]), Path(second["families"][family]["model_path"])
        assert a.parent == tmp_path / "one" and b.parent == tmp_path / "two"
        assert a.read_bytes() == b.read_bytes()
    other = gbm_trainer.train(_job(sym_job("y_up_5d", "AAPL", families=["lightgbm"])), _context(tmp_path, "three"))
    assert other["families"]["lightgbm"]["score"] != first["families"]["lightgbm"]["score"]


def test_every_job_of_the_sample_plan_trains(sample_built: Built, tmp_path: Path, no_xgboost: None) -> None:
    plan = Plan.from_json(sample_built.master_plan.read_text(encoding="utf-8"))
    for job in plan.runnable_jobs:
        metrics = gbm_trainer.train(job, _context(tmp_path, job.job_id))
        for family in job.model_families:
            result = metrics["families"][family]
            if family == "lightgbm":
                assert Path(result["model_path"]).is_file()
                assert result["score"] > result["baseline_score"], job.job_id
            else:
                assert result["status"] == "skipped", family
        assert not set(job.excluded_features) & set(metrics["features"])


def test_the_trainer_loads_by_module_name_and_by_file_path(tmp_path: Path) -> None:
    by_name = importlib.import_module("examples.trainers.gbm_trainer")
    spec = importlib.util.spec_from_file_location("gbm_trainer_by_path", TRAINER_FILE)
    assert spec is not None and spec.loader is not None
    by_path = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(by_path)
    doc = sym_job("fwd_ret_5m", "TSLA", families=["lightgbm"])
    a = by_name.train(_job(doc), _context(tmp_path, "name"))
    b = by_path.train(_job(doc), _context(tmp_path, "path"))
    assert _without_paths(a) == _without_paths(b)
    code = "import examples.trainers.gbm_trainer as m; print(m.train.__name__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "train"


def test_the_trainers_scores_agree_with_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        y = rng.integers(0, 2, 60)
        tied = rng.integers(0, 6, 60).astype(float)  # many ties
        assert gbm_trainer.roc_auc(y, tied) == pytest.approx(roc_auc_score(y, tied))
        target, pred = rng.normal(size=60), rng.normal(size=60)
        assert gbm_trainer.r2(target, pred) == pytest.approx(r2_score(target, pred))
