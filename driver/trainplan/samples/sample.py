"""Deterministic generator of FoxML run directories in the reference's on-disk formats.

It writes what a FoxML run leaves behind for routing (README "Your own run directory"): the run context, target-ranking and
feature-selection cohorts (``metrics.json``, ``metrics.parquet``, ``metadata.json``) for the cross-sectional scope
and every symbol, ``target_confidence.json``, feature-importance snapshots in the hash layout, feature quarantine
files, the target-ranking CSV and the per-target ``latest_ref.json`` pointer.

Scores are placed relative to the thresholds of the routing policy so that every route appears. Nothing here
decides a route: the bands only choose where a generated score lands.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from trainplan.errors import storage_errors
from trainplan.samples.candidates_format import write_reference_candidates

BASE_TIME = datetime(2026, 1, 5, 10, 0, 0)
RUN_ID = "intelligent_output_20260105_100000"
DEFAULT_SYMBOLS = ["AAPL", "MSFT", "GOOGL", "AMZN", "META", "NVDA", "TSLA", "JPM", "XOM", "JNJ", "V", "PG"]


@dataclass(frozen=True)
class TargetSpec:
    name: str
    task_type: str  # REGRESSION | BINARY_CLASSIFICATION
    tier: str  # default | short | medium | long | very_long (the horizon tier of the name)
    cs_band: str  # strong | weak | exp | dis | small | leak
    cs_stability: str  # stable | drifting | diverged | few


# The bundled sample's targets: horizons 5m ... 5d, a same_day name, a dotted name, regression and binary.
SAMPLE_TARGETS = [
    TargetSpec("fwd_ret_5m", "REGRESSION", "short", "strong", "stable"),
    TargetSpec("fwd_ret_60m", "REGRESSION", "medium", "weak", "stable"),
    TargetSpec("y_will_peak_60m_0.8", "BINARY_CLASSIFICATION", "medium", "dis", "stable"),
    TargetSpec("fwd_ret_4h", "REGRESSION", "long", "small", "stable"),
    TargetSpec("ret_same_day_close", "REGRESSION", "long", "leak", "stable"),
    TargetSpec("y_up_5d", "BINARY_CLASSIFICATION", "very_long", "strong", "drifting"),
]

# Symbol bands, rotated per target so that each target sees every band.
SYMBOL_BANDS = [
    "strong",
    "weak",
    "exp",
    "dis",
    "small",
    "strong",
    "weak",
    "dis",
    "exp",
    "strong",
    "weak",
    "leak",
]

FAMILIES = ["lightgbm", "xgboost", "catboost", "neural_network", "lasso"]


def universe_sig(symbols: list[str]) -> str:
    """The reference's universe signature: blake2s over the sorted, comma-joined symbols, 6-byte digest."""
    return hashlib.blake2s(",".join(sorted(set(symbols))).encode(), digest_size=6).hexdigest()


def sanitize_target_dir(target: str) -> str:
    """Target directory name as the reference writes it: '/' and '\\' become '_'."""
    return target.replace("/", "_").replace("\\", "_")


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="microseconds")


def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_metrics(cohort_dir: Path, metrics: dict[str, Any]) -> None:
    """metrics.json and the one-row metrics.parquet that mirrors it (README "Your own run directory")."""
    _write_json(cohort_dir / "metrics.json", metrics)
    pq.write_table(pa.Table.from_pylist([metrics]), cohort_dir / "metrics.parquet")


def _thresholds(policy: dict[str, Any], lane: str, task_type: str, tier: str) -> tuple[float, float]:
    """(min_score, strong_score) of a lane, resolved like the policy's thresholds (docs/decision-semantics.md) — only to place sample scores."""
    section = policy["routing"]["cross_sectional" if lane == "cs" else "symbol"]
    out = []
    for key in ("min_score", "strong_score"):
        value = section[key]
        if not isinstance(value, dict):
            out.append(float(value))
        elif "CLASSIFICATION" in task_type:
            out.append(float(value["classification"]))
        else:
            reg = value["regression"]
            out.append(float(reg.get(tier, reg["default"])) if isinstance(reg, dict) else float(reg))
    return out[0], out[1]


def _band_score(band: str, lo: float, hi: float, rng: random.Random) -> float:
    jitter = rng.uniform(0.001, 0.009)
    if band in ("strong", "small", "leak"):
        return round(hi + 0.01 + jitter, 4)
    if band in ("weak", "exp"):
        return round((lo + hi) / 2 + jitter / 10, 4)
    return round(lo - 0.02 - jitter, 4)  # dis


def _band_stability(band: str, default: str) -> str:
    return "drifting" if band == "exp" else default


def _cohort_id(prefix: str, usig: str, min_cs: int, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{prefix}_2025Q3_{usig}_min_cs{min_cs}_max1000_v1_{digest}"


def _tr_metrics(target: str, score: float, task_type: str, n: int, flag: str, ts: datetime) -> dict[str, Any]:
    metric_name = "R²" if task_type == "REGRESSION" else "ROC-AUC"
    folds = [round(score - 0.002, 4), round(score + 0.003, 4), round(score - 0.001, 4)]
    return {
        "run_id": RUN_ID,
        "timestamp": _iso(ts),
        "reproducibility_mode": "COHORT_AWARE",
        "stage": "target_ranking",
        "target": target,
        "metric_name": metric_name,
        "auc": score,
        "std_score": 0.011,
        "mean_importance": 0.37,
        "composite_score": round(score + 0.3, 4),
        "n_models": 4.0,
        "task_type": task_type,
        "n_features_pre": 212.0,
        "n_features_post_prune": 97.0,
        "features_safe": 212.0,
        "fold_scores": folds,
        "min_score": min(folds),
        "max_score": max(folds),
        "median_score": sorted(folds)[1],
        "leakage_flag": flag,
        "leakage": {"status": flag, "checks_run": 3.0, "violations": 0.0 if flag == "OK" else 1.0},
        "n_effective": float(n),
    }


def _fs_metrics(target: str, n: int, n_ok_families: int, ts: datetime, rng: random.Random) -> dict[str, Any]:
    consensus = round(rng.uniform(5.0, 9.0), 3)
    return {
        "run_id": RUN_ID,
        "timestamp": _iso(ts),
        "reproducibility_mode": "COHORT_AWARE",
        "stage": "FEATURE_SELECTION",
        "target": target,
        "metric_name": "Consensus Score",
        "auc": consensus,
        "std_score": 3.1,
        "mean_importance": 41.0,
        "composite_score": consensus,
        "n_features_selected": 30.0,
        "n_successful_families": float(n_ok_families),
        "n_selected": 30.0,
        "n_effective": float(n),
    }


def _metadata(
    cohort_id: str, stage: str, view: str, target: str, symbols: list[str], n: int, ts: datetime
) -> dict[str, Any]:
    return {
        "schema_version": 2,
        "cohort_id": cohort_id,
        "run_id": RUN_ID,
        "stage": stage,
        "view": view,
        "target": target,
        "n_effective": n,
        "n_symbols": len(symbols),
        "symbols": sorted(symbols),
        "date_start": "2025-07-01T13:30:00",
        "date_end": "2025-09-30T20:00:00",
        "universe_sig": universe_sig(symbols),
        "min_cs": 3 if view == "CROSS_SECTIONAL" else 1,
        "max_cs_samples": 1000,
        "leakage_filter_version": "v1",
        "config_hash": "9f8e7d6c",
        "seed": 42,
        "git_commit": "1e594aa",
        "created_at": _iso(ts),
    }


def _feature_lists(kind: str, n_features: int, rng: random.Random, n_snapshots: int = 3) -> list[list[str]]:
    """Snapshot feature orders whose adjacent-pair stability falls in the named class."""
    pool = [f"feat_{i:03d}" for i in range(n_features * 3 + 20 * n_snapshots)]
    base = pool[:n_features]
    fresh = iter(pool[n_features:])
    if kind == "few":
        return [base]
    lists = [base]
    for step in range(n_snapshots - 1):
        prev = list(lists[-1])
        if kind == "stable":
            i = n_features - 4 - step % 3
            prev[i], prev[i + 1] = prev[i + 1], prev[i]
            nxt = prev
        elif kind == "drifting":
            # five of the top 20 leave (fresh ones take their place) and the head is reversed
            for pos in range(15, 20):
                prev[pos] = next(fresh)
            nxt = prev[:16][::-1] + prev[16:]
        else:  # diverged: one identical step, then a completely different top
            nxt = prev if step == 0 else [next(fresh) for _ in range(20)] + prev[20:]
        lists.append(nxt)
    return lists


def _snapshots(
    target: str,
    method: str,
    usig: str,
    kind: str,
    t0: datetime,
    rng: random.Random,
    n_features: int,
    n_snapshots: int = 3,
) -> list[dict[str, Any]]:
    sigs = {
        "feature_signature": hashlib.sha256(f"feat|{target}".encode()).hexdigest()[:16],
        "split_signature": hashlib.sha256(b"split").hexdigest()[:16],
        "target_signature": hashlib.sha256(f"target|{target}".encode()).hexdigest()[:16],
        "hparams_signature": hashlib.sha256(f"hp|{method}".encode()).hexdigest()[:16],
        "dataset_signature": hashlib.sha256(f"ds|{usig}".encode()).hexdigest()[:16],
        "routing_signature": hashlib.sha256(f"rt|{usig}".encode()).hexdigest()[:16],
    }
    replicate_key = hashlib.sha256(json.dumps([target, method, usig, sigs]).encode()).hexdigest()
    out = []
    for i, features in enumerate(_feature_lists(kind, n_features, rng, n_snapshots)):
        importances = [round(1.0 - j / (len(features) + 1), 6) for j in range(len(features))]
        strict_key = hashlib.sha256(f"{replicate_key}|{i}".encode()).hexdigest()
        out.append(
            {
                "target": target,
                "method": method,
                "universe_sig": usig,
                "run_id": hashlib.sha256(f"run|{replicate_key}|{i}".encode()).hexdigest()[:32],
                "created_at": _iso(t0 + timedelta(minutes=10 * i, microseconds=i)),
                "features": features,
                "importances": importances,
                "strict_key": strict_key,
                "replicate_key": replicate_key,
                **sigs,
                "train_seed": 42 + i,
                "prediction_kind": "regression",
            }
        )
    return out


@dataclass(frozen=True)
class SampleOptions:
    out: Path
    targets: int = 6
    symbols: int = 12
    seed: int = 7
    snapshot_features: int = 40
    snapshots: int = 3  # importance snapshots per stability scope
    # Newer FoxML layout (README "Your own run directory"): reproducibility/stage=<STAGE>/<VIEW>/[symbol=<S>/]universe=<sig>/cohort=<id>/
    staged_layout: bool = False
    # Names instead of the defaults (e.g. dotted, dashed or unicode names; a '/' in a target is sanitised in its folder).
    target_names: tuple[str, ...] = ()
    symbol_names: tuple[str, ...] = ()


def _target_specs(n: int, names: tuple[str, ...] = ()) -> list[TargetSpec]:
    if names:
        return [TargetSpec(name, "REGRESSION", "default", "strong", "stable") for name in names]
    specs = list(SAMPLE_TARGETS[:n])
    bands = ["strong", "weak", "dis", "strong", "small"]
    tiers = [("m", 1, "short"), ("h", 60, "long"), ("d", 1440, "very_long")]
    k = 0
    while len(specs) < n:
        unit, _, tier = tiers[k % 3]
        task = "REGRESSION" if k % 2 == 0 else "BINARY_CLASSIFICATION"
        specs.append(TargetSpec(f"gen_tgt_{k:04d}_{k % 9 + 2}{unit}", task, tier, bands[k % len(bands)], "stable"))
        k += 1
    return specs


def _symbol_names(n: int, names: tuple[str, ...] = ()) -> list[str]:
    if names:
        return list(names)
    return DEFAULT_SYMBOLS[:n] + [f"SYM{i:04d}" for i in range(max(0, n - len(DEFAULT_SYMBOLS)))]


def generate_sample(opts: SampleOptions, policy: dict[str, Any]) -> Path:
    """Write a FoxML-layout run directory under ``opts.out``; return its path."""
    with storage_errors("writing the sample run", folder=opts.out):
        return _generate_sample(opts, policy)


def _generate_sample(opts: SampleOptions, policy: dict[str, Any]) -> Path:
    rng = random.Random(opts.seed)
    root = opts.out
    symbols = _symbol_names(opts.symbols, opts.symbol_names)
    run_usig = universe_sig(symbols)
    specs = _target_specs(opts.targets, opts.target_names)
    cohort = _cohort_placer(opts.staged_layout)
    candidates: list[dict[str, Any]] = []

    _write_json(
        root / "globals" / "run_context.json",
        {
            "requested_view": None,
            "views": {
                run_usig: {
                    "view": "CROSS_SECTIONAL",
                    "original_reason": f"n_symbols={len(symbols)}",
                    "n_symbols": len(symbols),
                    "symbols_sample": symbols[:3],
                    "resolved_at": "2026-01-05T10:00:00.921235Z",
                }
            },
            "current_universe": run_usig,
            "data_scope": "PANEL",
            "view": "CROSS_SECTIONAL",
            "view_reason": f"n_symbols={len(symbols)}",
            "n_symbols": len(symbols),
            "resolved_at": "2026-01-05T10:00:00.921255Z",
        },
    )

    ranking_rows: list[dict[str, Any]] = []
    for t_idx, spec in enumerate(specs):
        tdir = root / "targets" / sanitize_target_dir(spec.name)
        repro = tdir / "reproducibility"
        t0 = BASE_TIME + timedelta(minutes=t_idx)
        cs_lo, cs_hi = _thresholds(policy, "cs", spec.task_type, spec.tier)
        cs_score = _band_score(spec.cs_band, cs_lo, cs_hi, rng)
        cs_n = 800 if spec.cs_band == "small" else 25000
        cs_flag = "LEAKAGE_DETECTED" if spec.cs_band == "leak" else "OK"
        cs_dir = repro / "CROSS_SECTIONAL"

        # An older target-ranking cohort whose name sorts last: the latest must be picked by time, not name.
        old_id = "cs_2025Q3_" + run_usig + "_min_cs3_max1000_v1_ffffffff"
        old_ts = t0 - timedelta(days=1)
        old_dir = cohort(repro, "TARGET_RANKING", "CROSS_SECTIONAL", None, run_usig, old_id)
        _write_metrics(old_dir, _tr_metrics(spec.name, round(cs_score - 0.4, 4), spec.task_type, cs_n, "OK", old_ts))
        _write_json(
            old_dir / "metadata.json",
            _metadata(old_id, "TARGET_RANKING", "CROSS_SECTIONAL", spec.name, symbols, cs_n, old_ts),
        )
        tr_id = _cohort_id("cs", run_usig, 3, f"{spec.name}|TR")
        tr_dir = cohort(repro, "TARGET_RANKING", "CROSS_SECTIONAL", None, run_usig, tr_id)
        _write_metrics(tr_dir, _tr_metrics(spec.name, cs_score, spec.task_type, cs_n, cs_flag, t0))
        _write_json(
            tr_dir / "metadata.json",
            _metadata(tr_id, "TARGET_RANKING", "CROSS_SECTIONAL", spec.name, symbols, cs_n, t0),
        )
        candidates.append(_candidate(spec.name, None, cs_score, cs_n, spec.task_type))
        fs_id = _cohort_id("cs", run_usig, 3, f"{spec.name}|FS")
        fs_ts = t0 + timedelta(minutes=5)
        fs_dir = cohort(repro, "FEATURE_SELECTION", "CROSS_SECTIONAL", None, run_usig, fs_id)
        _write_metrics(fs_dir, _fs_metrics(spec.name, cs_n, len(FAMILIES), fs_ts, rng))
        _write_json(
            fs_dir / "metadata.json",
            _metadata(fs_id, "FEATURE_SELECTION", "CROSS_SECTIONAL", spec.name, symbols, cs_n, fs_ts),
        )
        _write_json(cs_dir / "target_confidence.json", _confidence(spec.name, cs_score))
        snap_dir = repro / "feature_importance_snapshots" / "replicate"
        for snap in _snapshots(
            spec.name,
            "multi_model_aggregated",
            run_usig,
            spec.cs_stability,
            t0 + timedelta(minutes=6),
            rng,
            opts.snapshot_features,
            opts.snapshots,
        ):
            _write_json(snap_dir / snap["replicate_key"] / f"{snap['strict_key']}.json", snap)
        if t_idx == 0:
            _write_quarantine(cs_dir / "feature_quarantine", spec.name, "CROSS_SECTIONAL", "ALL", t0)
            _write_legacy_snapshots(repro, spec.name, run_usig, t0, rng, opts.snapshot_features)

        for s_idx, sym in enumerate(symbols):
            band = SYMBOL_BANDS[(s_idx + t_idx) % len(SYMBOL_BANDS)]
            lo, hi = _thresholds(policy, "symbol", spec.task_type, spec.tier)
            score = _band_score(band, lo, hi, rng)
            n = 500 if band == "small" else 2000 + 100 * s_idx
            flag = "LEAKAGE_DETECTED" if band == "leak" else ("SUSPICIOUS" if s_idx == 1 else "OK")
            sym_usig = universe_sig([sym])
            sdir = repro / "SYMBOL_SPECIFIC" / f"symbol={sym}"
            ts = t0 + timedelta(seconds=10 + s_idx)
            sy_tr = _cohort_id("sy", sym_usig, 1, f"{spec.name}|{sym}|TR")
            sy_tr_dir = cohort(repro, "TARGET_RANKING", "SYMBOL_SPECIFIC", sym, sym_usig, sy_tr)
            _write_metrics(sy_tr_dir, _tr_metrics(spec.name, score, spec.task_type, n, flag, ts))
            _write_json(
                sy_tr_dir / "metadata.json",
                _metadata(sy_tr, "TARGET_RANKING", "SYMBOL_SPECIFIC", spec.name, [sym], n, ts),
            )
            candidates.append(_candidate(spec.name, sym, score, n, spec.task_type))
            sy_fs = _cohort_id("sy", sym_usig, 1, f"{spec.name}|{sym}|FS")
            n_ok = 0 if (band == "strong" and s_idx == 9) else len(FAMILIES) - (s_idx % 2)
            sy_fs_dir = cohort(repro, "FEATURE_SELECTION", "SYMBOL_SPECIFIC", sym, sym_usig, sy_fs)
            _write_metrics(sy_fs_dir, _fs_metrics(spec.name, n, n_ok, ts + timedelta(minutes=5), rng))
            _write_json(
                sy_fs_dir / "metadata.json",
                _metadata(
                    sy_fs,
                    "FEATURE_SELECTION",
                    "SYMBOL_SPECIFIC",
                    spec.name,
                    [sym],
                    n,
                    ts + timedelta(minutes=5),
                ),
            )
            for snap in _snapshots(
                spec.name,
                "lightgbm",
                sym_usig,
                _band_stability(band, "stable"),
                ts + timedelta(minutes=6),
                rng,
                opts.snapshot_features,
                opts.snapshots,
            ):
                _write_json(snap_dir / snap["replicate_key"] / f"{snap['strict_key']}.json", snap)
            if t_idx == 0 and s_idx in (0, 3):
                _write_quarantine(sdir / "feature_quarantine", spec.name, "SYMBOL_SPECIFIC", sym, ts)
            _write_json(sdir / "target_confidence.json", _confidence(spec.name, score))

        _write_json(
            tdir / "metrics" / "latest_ref.json",
            {
                "run_id": RUN_ID,
                "cohort_id": fs_id,
                "target": spec.name,
                "view": "UNKNOWN",
                "symbol": None,
                "canonical_path": f"targets/{sanitize_target_dir(spec.name)}/reproducibility/"
                f"CROSS_SECTIONAL/cohort={fs_id}/metrics.parquet",
                "relative_path": f"../reproducibility/CROSS_SECTIONAL/cohort={fs_id}/metrics.parquet",
                "sha256": hashlib.sha256(fs_id.encode()).hexdigest(),
                "timestamp": _iso(fs_ts),
                "note": "This is a pointer to canonical metrics.parquet in reproducibility/cohort directory",
            },
        )
        ranking_rows.append(
            {
                "target": spec.name,
                "target_column": spec.name,
                "composite_score": round(cs_score + 0.3, 4),
                "task_type": spec.task_type,
                "auc": cs_score,
                "std_score": 0.011,
                "mean_r2": cs_score if spec.task_type == "REGRESSION" else "",
                "std_r2": 0.01 if spec.task_type == "REGRESSION" else "",
                "mean_importance": 0.37,
                "consistency": 0.8,
                "n_models": 4,
                "leakage_flag": cs_flag,
                "lightgbm_r2": cs_score,
                "recommendation": "TRAIN" if cs_flag == "OK" else "INVESTIGATE",
            }
        )

    ranking_rows.sort(key=lambda r: (-float(r["composite_score"]), r["target"]))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["rank", *ranking_rows[0].keys()], lineterminator="\n")
    writer.writeheader()
    for rank, row in enumerate(ranking_rows, start=1):
        writer.writerow({"rank": rank, **row})
    (root / "globals" / "target_predictability_rankings.csv").write_text(buf.getvalue(), encoding="utf-8")
    write_reference_candidates(candidates, root / "globals" / "routing", BASE_TIME + timedelta(hours=1))
    return root


def _cohort_placer(staged: bool) -> Callable[[Path, str, str, str | None, str, str], Path]:
    """The cohort folder of a scope: the HEAD layout, or the newer stage=/universe= layout (README "Your own run directory")."""

    def place(repro: Path, stage: str, view: str, symbol: str | None, usig: str, cohort_id: str) -> Path:
        scope = Path(view) if symbol is None else Path(view) / f"symbol={symbol}"
        if staged:
            return repro / f"stage={stage}" / scope / f"universe={usig}" / f"cohort={cohort_id}"
        return repro / scope / f"cohort={cohort_id}"

    return place


def _candidate(target: str, symbol: str | None, score: float, n: int, task_type: str) -> dict[str, Any]:
    """The intended routing candidate of a scope (its latest target-ranking cohort), in the reference's row shape."""
    return {
        "target": target,
        "symbol": symbol,
        "mode": "CROSS_SECTIONAL",
        "score": score,
        "sample_size": n,
        "task_type": task_type,
        "metric_name": "R²" if task_type == "REGRESSION" else "ROC-AUC",
        "model_status": None if symbol is None else "OK",
    }


def _confidence(target: str, score: float) -> dict[str, Any]:
    """target_confidence.json (README "Your own run directory"); like the reference it carries no sample_size."""
    return {
        "target": target,
        "boruta_confirmed_count": 3,
        "boruta_tentative_count": 2,
        "boruta_rejected_count": 40,
        "boruta_used": True,
        "n_models_available": 6,
        "n_models_successful": 6,
        "model_coverage_ratio": 1.0,
        "auc": score,
        "max_score": round(score + 0.02, 4),
        "mean_strong_score": score,
        "agreement_ratio": 0.3,
        "score_tier": "MEDIUM",
        "confidence": "MEDIUM",
        "low_confidence_reason": None,
    }


def _write_legacy_snapshots(
    repro: Path, target: str, run_usig: str, t0: datetime, rng: random.Random, n_features: int
) -> None:
    """Snapshots in the legacy layout <target>/<method>/<run_id>.json (README "Your own run directory"): no replicate signatures,
    a method (catboost) and universe that belong to no routing scope, so they are read but change no decision."""
    base = repro / "feature_importance_snapshots" / sanitize_target_dir(target) / "catboost"
    for i, features in enumerate(_feature_lists("stable", n_features, rng)):
        run_id = hashlib.sha256(f"legacy|{target}|{i}".encode()).hexdigest()[:32]
        _write_json(
            base / f"{run_id}.json",
            {
                "target": target,
                "method": "catboost",
                "universe_sig": run_usig,
                "run_id": run_id,
                "created_at": _iso(t0 - timedelta(days=2, minutes=-10 * i)),
                "features": features,
                "importances": [round(1.0 - j / (len(features) + 1), 6) for j in range(len(features))],
            },
        )


def _write_quarantine(qdir: Path, target: str, view: str, symbol: str, ts: datetime) -> None:
    suspects = [
        {"model_name": "lightgbm", "feature": "feat_000", "top1_share": 0.71, "top1_over_top2": 4.2},
        {"model_name": "xgboost", "feature": "feat_001", "top1_share": 0.55, "top1_over_top2": 3.1},
    ]
    stamp = ts.isoformat() + "Z"
    _write_json(
        qdir / f"suspects_{view}_{symbol}.json",
        {"ts": stamp, "target": target, "view": view, "symbol": symbol, "suspects": suspects},
    )
    _write_json(
        qdir / "confirmed_quarantine.json",
        {
            "ts": stamp,
            "target": target,
            "view": view,
            "symbol": symbol,
            "confirmed_features": ["feat_000"],
            "evidence": suspects[:1],
        },
    )
