"""Test helpers for the stability models: the models' compiled SQL run on staged rows, and a plain-Python reference.

`compile_stability_models` compiles the real dbt models once; `run_stability_sql` runs that SQL in a fresh
in-memory DuckDB on hand-made staging rows. `reference_stability` re-computes the same metrics from the
description of the reference (README "Stability") with scipy's kendalltau and a set-based Jaccard.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from scipy.stats import kendalltau
from trainplan.config.settings import project_dir
from trainplan.warehouse.dbt_runner import dbt_executable, dbt_paths

MODELS = [
    "int_stability__snapshots",
    "int_stability__scopes",
    "int_stability__compared_snapshots",
    "int_stability__snapshot_features",
    "int_stability__pairs",
    "int_stability__by_scope",
]
CATALOG = "stabsql"
SIGNATURES = ("dataset", "split", "target", "feature", "hparams", "routing")
CS_METHOD = "multi_model_aggregated"
SYMBOL_METHOD = "lightgbm"


@dataclass(frozen=True)
class Policy:
    top_k: int = 20
    min_snapshots: int = 2
    stable_overlap_min: float = 0.70
    drifting_overlap_min: float = 0.50
    stable_tau_min: float = 0.60
    drifting_tau_min: float = 0.40
    max_std_overlap: float = 0.20
    max_std_tau: float = 0.25


@dataclass
class Snapshot:
    """One snapshot file as staging delivers it."""

    file: str
    target: str
    method: str
    universe_sig: str | None
    created_at: datetime | None
    features: list[str | None] | None
    signatures: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(SIGNATURES, "sig"))
    is_valid_json: bool = True


def compile_stability_models(work: Path) -> dict[str, str]:
    """dbt compile of the stability models; returns model name -> compiled SQL (catalog CATALOG)."""
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "TRAINPLAN_DB": str(work / f"{CATALOG}.duckdb"),
        "TRAINPLAN_RUN_DIR": "",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }
    project = project_dir()
    proc = subprocess.run(
        [dbt_executable(), "compile", *dbt_paths(project, work), "--select", " ".join(MODELS)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    compiled = work / "target" / "compiled" / "trainplan" / "models" / "intermediate" / "stability"
    return {name: (compiled / f"{name}.sql").read_text(encoding="utf-8") for name in MODELS}


def run_stability_sql(
    compiled: dict[str, str],
    snapshots: list[Snapshot],
    symbol_universes: dict[tuple[str, str], str],
    policy: Policy,
) -> duckdb.DuckDBPyConnection:
    """Stage the rows, then build every stability model from its compiled SQL; returns the connection."""
    con = duckdb.connect()
    con.execute(f"attach ':memory:' as {CATALOG}")
    con.execute(f"use {CATALOG}")
    sig_cols = ", ".join(f"{s}_signature varchar" for s in SIGNATURES)
    con.execute(
        "create table stg_foxml__importance_snapshots (source_file varchar, target_dir varchar, "
        "is_valid_json boolean, target varchar, method varchar, universe_sig varchar, snapshot_run_id varchar, "
        "created_at timestamp, features varchar[], importances double[], replicate_key varchar, "
        f"strict_key varchar, {sig_cols}, train_seed bigint, strict_json_problem varchar)"
    )
    con.executemany(
        f"insert into stg_foxml__importance_snapshots values (?, ?, ?, ?, ?, ?, null, ?, ?, null, null, null, "
        f"{', '.join('?' for _ in SIGNATURES)}, null, null)",
        [
            [s.file, s.target, s.is_valid_json, s.target, s.method, s.universe_sig, s.created_at, s.features]
            + [s.signatures.get(name) for name in SIGNATURES]
            for s in snapshots
        ],
    )
    con.execute("create table stg_foxml__cohort_metrics (source_file varchar, target varchar, symbol varchar)")
    con.execute(
        "create table stg_foxml__cohort_metadata (source_file varchar, metrics_file varchar, universe_sig varchar)"
    )
    for i, ((target, symbol), usig) in enumerate(sorted(symbol_universes.items())):
        metrics = f"/run/targets/{target}/reproducibility/SYMBOL_SPECIFIC/symbol={symbol}/cohort=c{i}/metrics.json"
        con.execute("insert into stg_foxml__cohort_metrics values (?, ?, ?)", [metrics, target, symbol])
        con.execute(
            "insert into stg_foxml__cohort_metadata values (?, ?, ?)",
            [metrics.replace("metrics.json", "metadata.json"), metrics, usig],
        )
    con.execute(
        "create table stg_policy__settings as select ?::integer as stability_top_k, "
        "?::integer as min_snapshots_for_stability, ?::double as stability_stable_overlap_min, "
        "?::double as stability_drifting_overlap_min, ?::double as stability_stable_tau_min, "
        "?::double as stability_drifting_tau_min, ?::double as stability_max_std_overlap, "
        "?::double as stability_max_std_tau, ?::varchar as stability_cs_method, "
        "?::varchar as stability_symbol_method",
        [
            policy.top_k,
            policy.min_snapshots,
            policy.stable_overlap_min,
            policy.drifting_overlap_min,
            policy.stable_tau_min,
            policy.drifting_tau_min,
            policy.max_std_overlap,
            policy.max_std_tau,
            CS_METHOD,
            SYMBOL_METHOD,
        ],
    )
    for name in MODELS:
        con.execute(f"create table {name} as {compiled[name]}")
    return con


# ---- the plain-Python reference ----------------------------------------------------------------------------


def first_positions(features: list[str | None]) -> dict[str, int]:
    """Name -> 0-based position of its first occurrence; null names skipped."""
    out: dict[str, int] = {}
    for i, name in enumerate(features):
        if name is not None:
            out.setdefault(name, i)
    return out


def pair_metrics(a: list[str | None], b: list[str | None], top_k: int) -> tuple[float, float | None]:
    """(Jaccard of the top-K name sets, Kendall tau-b of the common features' positions or None)."""
    top_a = {x for x in a[:top_k] if x is not None}
    top_b = {x for x in b[:top_k] if x is not None}
    union = top_a | top_b
    overlap = 1.0 if not union else len(top_a & top_b) / len(union)
    ranks_a, ranks_b = first_positions(a), first_positions(b)
    common = [name for name in ranks_a if name in ranks_b]
    if len(common) < 3:
        return overlap, None
    tau = kendalltau([ranks_a[n] for n in common], [ranks_b[n] for n in common], variant="b").statistic
    return overlap, float(tau)


def classify(mean_o: float, std_o: float, mean_t: float, std_t: float, p: Policy) -> str:
    """The reference's order; NaN never diverges and a NaN mean is UNKNOWN."""
    if (not math.isnan(std_o) and std_o > p.max_std_overlap) or (not math.isnan(std_t) and std_t > p.max_std_tau):
        return "DIVERGED"
    if mean_o >= p.stable_overlap_min and mean_t >= p.stable_tau_min:
        return "STABLE"
    if mean_o >= p.drifting_overlap_min and mean_t >= p.drifting_tau_min:
        return "DRIFTING"
    return "UNKNOWN"


def reference_stability(snapshots: list[Snapshot], p: Policy) -> dict[str, Any]:
    """One scope's row: the replicate filter, the universe filter, adjacent pairs, population statistics."""
    complete = [
        s
        for s in snapshots
        if all(s.signatures.get(name) is not None for name in SIGNATURES)
        and s.created_at is not None
        and s.features is not None
    ]
    complete.sort(key=lambda s: (s.created_at, s.file))
    row: dict[str, Any] = dict.fromkeys(("mean_overlap", "std_overlap", "mean_tau", "std_tau"))
    row.update(n_comparisons=0, stability="UNKNOWN", n_snapshots=len(complete))
    if not complete:
        return {**row, "stability_reason": "no snapshots", "n_snapshots": 0}
    if len(complete) < 2:
        return {**row, "stability_reason": "insufficient snapshots"}
    if len({tuple(s.signatures[name] for name in SIGNATURES) for s in complete}) > 1:
        return {**row, "stability_reason": "invalid signatures"}
    groups: dict[str, list[Snapshot]] = {}
    for s in complete:
        groups.setdefault("NO_UNIVERSE" if s.universe_sig is None else s.universe_sig.split(":")[0], []).append(s)
    kept = max(groups.values(), key=len)
    row["n_snapshots"] = len(kept)
    if len(kept) < max(2, p.min_snapshots):
        return {**row, "stability_reason": "insufficient snapshots"}
    metrics = [pair_metrics(x.features or [], y.features or [], p.top_k) for x, y in itertools.pairwise(kept)]
    overlaps = np.array([m[0] for m in metrics])
    taus = np.array([np.nan if m[1] is None else m[1] for m in metrics])
    has_tau = bool((~np.isnan(taus)).any())
    mean_o, std_o = float(np.mean(overlaps)), float(np.std(overlaps))
    mean_t = float(np.nanmean(taus)) if has_tau else math.nan
    std_t = float(np.nanstd(taus)) if has_tau else math.nan
    return {
        **row,
        "n_comparisons": len(metrics),
        "mean_overlap": mean_o,
        "std_overlap": std_o,
        "mean_tau": mean_t if has_tau else None,
        "std_tau": std_t if has_tau else None,
        "stability": classify(mean_o, std_o, mean_t, std_t, p),
        "stability_reason": "classified",
    }
