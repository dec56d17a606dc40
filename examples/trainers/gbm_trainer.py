"""An example trainer: gradient-boosted models for one plan job, on a deterministic synthetic panel.

`trainplan train` calls `train(job, context)` once per job. Name it as `examples.trainers.gbm_trainer:train` from
the repository root, or by its file path (`examples/trainers/gbm_trainer.py:train` for a runner that loads files;
the file imports nothing relative to its folder). docs/training-api.md describes the panel and the metrics it returns.

For each of the job's `model_families` it knows, it fits one model on the job's panel without the job's
`excluded_features`, scores it on the later part of the panel in time, writes the model file into
`context.artifacts_dir` and returns the held-out score. Families it cannot train are reported as skipped with the
reason: a family it does not know, and `xgboost` unless the xgboost package is installed (it is not one of
trainplan's dependencies).
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from trainplan.plan.model import Job
from trainplan.samples.sample import DEFAULT_SYMBOLS
from trainplan.train.context import TrainContext

# Imported once with the module, so a runner that imports the trainer before it starts its workers pays for it once.
try:
    import lightgbm
except ImportError:  # the examples dependency group installs it
    lightgbm = None
try:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits
except ImportError:  # the examples dependency group installs it
    HistGradientBoostingClassifier = HistGradientBoostingRegressor = threadpool_limits = None
try:
    import xgboost
except ImportError:
    xgboost = None

N_FEATURES = 12  # feat_000 ... feat_011, the sample run's feature names
N_INFORMATIVE = 6  # the label depends on feat_000 ... feat_005; feat_000 carries the most
ROWS_PER_SYMBOL = 400  # time steps per symbol
TEST_FRACTION = 0.25  # the last quarter of the time steps is held out
N_TREES = 60
LEARNING_RATE = 0.1
MAX_LEAVES = 15

REGRESSION, BINARY = "regression", "binary"


# --- the synthetic panel --------------------------------------------------------------------------------------------


def feature_names(n: int = N_FEATURES) -> list[str]:
    return [f"feat_{i:03d}" for i in range(n)]


def seed_of(*parts: str) -> int:
    """A 64-bit seed from names (blake2b, so it does not depend on Python's hash seed)."""
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest(), "little")


def task_of(job: Job) -> str:
    """`binary` when the job's metadata says a classification task, or when the target is named `y_...` (the
    sample's binary targets); `regression` otherwise."""
    task_type = str(job.metadata.get("task_type") or "").upper()
    if task_type:
        return BINARY if "CLASSIFICATION" in task_type else REGRESSION
    return BINARY if job.target.startswith("y_") else REGRESSION


def symbols_of(job: Job) -> list[str]:
    """The panel's symbols: the job's own for a symbol job; for a cross-sectional job, `metadata.symbols` when
    the plan lists them, else the sample run's twelve symbols."""
    if job.symbol is not None:
        return [job.symbol]
    listed = job.metadata.get("symbols")
    if isinstance(listed, Sequence) and not isinstance(listed, str) and listed:
        return [str(s) for s in listed]
    return list(DEFAULT_SYMBOLS)


class Panel(NamedTuple):
    """Rows of (symbol, time) with every feature of the panel and the label, ordered by symbol then time.

    (A NamedTuple, not a dataclass: a dataclass needs its module in sys.modules, which loading by path may skip.)
    """

    features: list[str]
    X: np.ndarray  # rows x features
    y: np.ndarray
    time: np.ndarray  # time step of each row, 0 ... ROWS_PER_SYMBOL - 1
    task: str

    def without(self, excluded: Sequence[str]) -> Panel:
        drop = set(excluded)
        keep = [i for i, name in enumerate(self.features) if name not in drop]
        return Panel([self.features[i] for i in keep], self.X[:, keep], self.y, self.time, self.task)

    def rows(self, mask: np.ndarray) -> Panel:
        return Panel(self.features, self.X[mask], self.y[mask], self.time[mask], self.task)


def make_panel(target: str, symbols: Sequence[str], task: str, rows_per_symbol: int = ROWS_PER_SYMBOL) -> Panel:
    """The panel of `target` over `symbols`: the same numbers for the same names, on any machine.

    Features follow AR(1) paths over time. The label is a linear signal in feat_000 ... feat_005 with weights drawn
    from the target's seed (each symbol perturbs them with its own seed), plus an interaction of feat_001 and
    feat_002, plus noise; for a binary task, its sign. The other features are noise.
    """
    target_rng = np.random.default_rng(seed_of("target", target))
    weights = target_rng.normal(0.0, 0.6, N_INFORMATIVE)
    weights[0] = 1.5 * (1.0 if weights[0] >= 0 else -1.0)
    interaction = target_rng.choice([-0.8, 0.8])
    names = feature_names()
    blocks_x, blocks_y = [], []
    for symbol in symbols:
        rng = np.random.default_rng(seed_of("panel", target, symbol))
        own = weights + rng.normal(0.0, 0.2, N_INFORMATIVE)
        shocks = rng.normal(0.0, 1.0, (rows_per_symbol, len(names)))
        x = np.empty_like(shocks)
        x[0] = shocks[0]
        for t in range(1, rows_per_symbol):
            x[t] = 0.6 * x[t - 1] + 0.8 * shocks[t]
        signal = x[:, :N_INFORMATIVE] @ own + interaction * x[:, 1] * x[:, 2]
        noise = rng.normal(0.0, 0.7 * float(np.std(signal)), rows_per_symbol)
        blocks_x.append(x)
        blocks_y.append(signal + noise)
    y = np.concatenate(blocks_y)
    if task == BINARY:
        y = (y > 0).astype(np.int64)
    time = np.tile(np.arange(rows_per_symbol), len(symbols))
    return Panel(names, np.vstack(blocks_x), y, time, task)


def time_split(panel: Panel, test_fraction: float = TEST_FRACTION) -> tuple[Panel, Panel]:
    """Train on the earlier time steps, test on the later ones (every symbol split at the same time)."""
    cut = round((int(panel.time.max()) + 1) * (1.0 - test_fraction))
    return panel.rows(panel.time < cut), panel.rows(panel.time >= cut)


# --- scores ---------------------------------------------------------------------------------------------------------


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - pred) ** 2)) / total if total > 0 else 0.0


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """The probability that a positive row scores above a negative one (ties count half)."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return 0.5
    _, which, counts = np.unique(score, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[which]  # 1-based ranks, tied scores share their mean rank
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def score(task: str, y: np.ndarray, pred: np.ndarray) -> tuple[str, float]:
    return ("roc_auc", roc_auc(y, pred)) if task == BINARY else ("r2", r2(y, pred))


def baseline(train: Panel, test: Panel) -> float:
    """The score of a constant prediction (the training mean): R² about 0, AUC 0.5."""
    return score(train.task, test.y, np.full(len(test.y), float(train.y.mean())))[1]


# --- the families ---------------------------------------------------------------------------------------------------


class Skipped(Exception):
    """A family this trainer cannot train here; the message is the reason reported in the metrics."""


def _fit_lightgbm(train: Panel, test: Panel, out_dir: Path, seed: int) -> tuple[np.ndarray, Path]:
    if lightgbm is None:
        raise Skipped("the lightgbm package is not installed")
    params = {
        "objective": "binary" if train.task == BINARY else "regression",
        "learning_rate": LEARNING_RATE,
        "num_leaves": MAX_LEAVES,
        "min_data_in_leaf": 20,
        "num_threads": 1,
        "deterministic": True,
        "force_col_wise": True,
        "seed": seed % 2**31,
        "verbose": -1,
    }
    data = lightgbm.Dataset(train.X, label=train.y, feature_name=train.features, params={"verbose": -1})
    booster = lightgbm.train(params, data, num_boost_round=N_TREES)
    if booster.feature_name() != train.features:
        raise RuntimeError(f"lightgbm model inputs {booster.feature_name()} differ from {train.features}")
    path = out_dir / "lightgbm.txt"
    booster.save_model(str(path))
    return booster.predict(test.X), path


def _fit_hist_gradient_boosting(train: Panel, test: Panel, out_dir: Path, seed: int) -> tuple[np.ndarray, Path]:
    if HistGradientBoostingRegressor is None:
        raise Skipped("the scikit-learn package is not installed")
    estimator_class = HistGradientBoostingClassifier if train.task == BINARY else HistGradientBoostingRegressor
    model = estimator_class(
        learning_rate=LEARNING_RATE,
        max_iter=N_TREES,
        max_leaf_nodes=MAX_LEAVES,
        early_stopping=False,
        random_state=seed % 2**32,
    )
    with threadpool_limits(limits=1):
        model.fit(train.X, train.y)
        pred = model.predict_proba(test.X)[:, 1] if train.task == BINARY else model.predict(test.X)
    if model.n_features_in_ != len(train.features):
        raise RuntimeError(f"model has {model.n_features_in_} inputs for {len(train.features)} features")
    path = out_dir / "hist_gradient_boosting.pkl"
    path.write_bytes(pickle.dumps({"model": model, "features": train.features, "task": train.task}))
    return pred, path


def _fit_xgboost(train: Panel, test: Panel, out_dir: Path, seed: int) -> tuple[np.ndarray, Path]:
    if xgboost is None:
        raise Skipped("the xgboost package is not installed (it is not a trainplan dependency; pip install xgboost)")
    estimator_class = xgboost.XGBClassifier if train.task == BINARY else xgboost.XGBRegressor
    model = estimator_class(
        n_estimators=N_TREES,
        learning_rate=LEARNING_RATE,
        max_leaves=MAX_LEAVES,
        tree_method="hist",
        n_jobs=1,
        random_state=seed % 2**31,
    )
    model.fit(train.X, train.y)
    booster = model.get_booster()
    booster.feature_names = list(train.features)
    pred = model.predict_proba(test.X)[:, 1] if train.task == BINARY else model.predict(test.X)
    path = out_dir / "xgboost.json"
    booster.save_model(str(path))
    return np.asarray(pred, dtype=float), path


FAMILIES: Mapping[str, Callable[[Panel, Panel, Path, int], tuple[np.ndarray, Path]]] = {
    "lightgbm": _fit_lightgbm,
    "hist_gradient_boosting": _fit_hist_gradient_boosting,
    "xgboost": _fit_xgboost,
}


def fit_family(family: str, train: Panel, test: Panel, out_dir: Path, seed: int) -> dict[str, Any]:
    """Fit one family on `train`, score it on `test`, write its model into `out_dir`: the family's metrics."""
    fit = FAMILIES.get(family)
    if fit is None:
        known = ", ".join(FAMILIES)
        return {"status": "skipped", "reason": f"the example trainer does not know {family!r} (it knows {known})"}
    try:
        pred, path = fit(train, test, out_dir, seed)
    except Skipped as why:
        return {"status": "skipped", "reason": str(why)}
    metric, value = score(train.task, test.y, pred)
    return {
        "status": "trained",
        "metric": metric,
        "score": value,
        "baseline_score": baseline(train, test),
        "n_train": len(train.y),
        "n_test": len(test.y),
        "n_features": len(train.features),
        "model_path": str(path),
    }


# --- the trainer ----------------------------------------------------------------------------------------------------


def train(job: Job | Mapping[str, Any], context: TrainContext) -> dict[str, Any]:
    """Train the job's families on its synthetic panel; return the job's metrics (JSON-serialisable)."""
    if not isinstance(job, Job):
        job = Job.from_document(job, 0)
    task = task_of(job)
    symbols = symbols_of(job)
    full = make_panel(job.target, symbols, task)
    unknown_excluded = [name for name in job.excluded_features if name not in full.features]
    panel = full.without(job.excluded_features)
    if not panel.features:
        raise ValueError(f"job {job.job_id}: every feature of the panel is excluded")
    train_part, test_part = time_split(panel)
    seed = seed_of("model", job.job_id)
    out_dir = Path(context.artifacts_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    families = {}
    for family in dict.fromkeys(job.model_families):
        result = fit_family(family, train_part, test_part, out_dir, seed)
        families[family] = result
        if result["status"] == "trained":
            context.logger.info(
                "%s %s: %s %.4f (baseline %.4f)",
                job.job_id,
                family,
                result["metric"],
                result["score"],
                result["baseline_score"],
            )
        else:
            context.logger.warning("%s %s: skipped: %s", job.job_id, family, result["reason"])
    return {
        "job_id": job.job_id,
        "target": job.target,
        "symbol": job.symbol,
        "training_type": job.training_type,
        "task": task,
        "panel": {
            "symbols": symbols,
            "rows_per_symbol": ROWS_PER_SYMBOL,
            "test_from_time": int(test_part.time.min()),
        },
        "features": panel.features,
        "excluded_features": list(job.excluded_features),
        "excluded_not_in_panel": unknown_excluded,
        "families": families,
        "trained": [f for f, r in families.items() if r["status"] == "trained"],
        "skipped": [f for f, r in families.items() if r["status"] == "skipped"],
    }
