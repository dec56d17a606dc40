"""Route churn with and without hysteresis: RUNS successive refreshes of a synthetic universe (default the M size,
20 targets x 500 symbols, binary classification) whose scores move by noise around fixed true values, plus one
real regime change: a block of pairs whose true symbol score jumps by more than the band at run CHANGE_RUN.

    .venv/bin/python -m bench.churn [--runs 20] [--targets 20] [--symbols 500] [--noise 0.01] [--band 0.02]
                                    [--seed 16] [--chart docs/hysteresis_churn.svg] [--workdir DIR]

Each run writes one routing_candidates.parquet (the reference's format, `trainplan.samples.candidates_format`) and
refreshes it twice, into two output folders: once with the shipped policy (hysteresis off) and once with
`hysteresis: {enabled: true}` and the shipped default band (or --band). Both see the same scores, and each reads
the plan its own folder published the run before (the default previous plan). The policy is the shipped one
except: the routing plan only as JSON, no derived training-plan files (speed), and no experimental cap (the cap
ranks pairs against each other: a different source of churn, which hysteresis does not address).

Printed: route flips per run (symbol decisions whose route differs from the run before), off and on, outside the
block; the total reduction; and for the block, the run at which each pair took its new route. With --chart, an
Altair chart of the flips per run is rendered to SVG (vl-convert).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import yaml
from trainplan.config.project import default_policy, project_dir
from trainplan.config.settings import make_settings
from trainplan.export.refresh import refresh
from trainplan.samples.candidates_format import write_reference_candidates

CHANGE_RUN = 10
CS_TRUE = (0.50, 0.64)  # true CS scores, uniform (thresholds: min 0.52, strong 0.58)
SYMBOL_TRUE = (0.49, 0.65)  # true symbol scores, uniform (experimental 0.52, min 0.54, strong 0.60)
BLOCK_TARGETS = 2  # the block: the first BLOCK_SYMBOLS symbols of the first BLOCK_TARGETS targets,
BLOCK_SYMBOLS = 50  # whose CS lane is set well above strong (so their route is CS-only or BOTH)
BLOCK_BEFORE, BLOCK_AFTER = 0.50, 0.59  # true symbol score before and from CHANGE_RUN (a real change of 0.09)
BLOCK_CS = 0.66

Pair = tuple[str, str]


@dataclass(frozen=True)
class Universe:
    targets: list[str]
    symbols: list[str]
    cs_true: dict[str, float]
    symbol_true: dict[Pair, float]
    block: set[Pair]


def make_universe(n_targets: int, n_symbols: int, rng: random.Random) -> Universe:
    targets = [f"fwd_ret_{t:02d}_5m" for t in range(n_targets)]
    symbols = [f"SYM{s:04d}" for s in range(n_symbols)]
    cs_true = {t: rng.uniform(*CS_TRUE) for t in targets}
    symbol_true = {(t, s): rng.uniform(*SYMBOL_TRUE) for t in targets for s in symbols}
    block = {(t, s) for t in targets[:BLOCK_TARGETS] for s in symbols[:BLOCK_SYMBOLS]}
    for t in targets[:BLOCK_TARGETS]:
        cs_true[t] = BLOCK_CS
    return Universe(targets, symbols, cs_true, symbol_true, block)


def write_run(universe: Universe, run: int, noise: float, rng: random.Random, folder: Path) -> Path:
    """One run's candidates: every true score plus independent normal noise."""
    rows = []
    for t in universe.targets:
        rows.append({"target": t, "symbol": None, "score": universe.cs_true[t] + rng.gauss(0, noise)})
        for s in universe.symbols:
            true = universe.symbol_true[(t, s)]
            if (t, s) in universe.block:
                true = BLOCK_AFTER if run >= CHANGE_RUN else BLOCK_BEFORE
            rows.append({"target": t, "symbol": s, "mode": "SYMBOL_SPECIFIC", "score": true + rng.gauss(0, noise)})
    for row in rows:
        row.update(
            sample_size=20000 if row["symbol"] is None else 5000,
            leakage_status="SAFE",
            stability="UNKNOWN",
            task_type="BINARY_CLASSIFICATION",
            metric_name="roc_auc",
        )
    stamp = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=run)
    return write_reference_candidates(rows, folder / f"run{run:02d}", stamp)


def write_policy(folder: Path, hysteresis: dict | None) -> Path:
    doc = yaml.safe_load(default_policy(project_dir()).read_text())
    routing = doc["routing"]
    routing.update(dump_plan_as=["JSON"], training_plan_files=[])
    routing["experimental"]["max_fraction_symbols_per_target"] = 1.0
    if hysteresis is not None:
        routing["hysteresis"] = hysteresis
    path = folder / ("policy_on.yaml" if hysteresis is not None else "policy_off.yaml")
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def routes(db: Path) -> dict[Pair, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select target, symbol, route from routing_decisions where symbol is not null").fetchall()
    return {(t, s): r for t, s, r in rows}


def churn(args: argparse.Namespace, work: Path) -> dict[str, list[dict[Pair, str]]]:
    rng = random.Random(args.seed)
    universe = make_universe(args.targets, args.symbols, rng)
    policies = {
        "off": write_policy(work, None),
        "on": write_policy(work, {"enabled": True} if args.band is None else {"enabled": True, "band": {
            "cross_sectional": args.band, "symbol": args.band}}),
    }  # fmt: skip
    history: dict[str, list[dict[Pair, str]]] = {name: [] for name in policies}
    for run in range(1, args.runs + 1):
        candidates = write_run(universe, run, args.noise, rng, work / "candidates")
        for name, policy in policies.items():
            out = work / name
            settings = make_settings(candidates_file=candidates, out_dir=out, db_path=out / "t.duckdb",
                                     policy_path=policy)  # fmt: skip
            refresh(settings)
            history[name].append(routes(settings.db_path))
        print(f"run {run:2d}: done", flush=True)
        (work / "history.json").write_text(  # kept with --workdir: the figures without running again
            json.dumps(
                {name: [[[*p, r] for p, r in sorted(h.items())] for h in runs] for name, runs in history.items()}
            )
        )
    report(universe, history)
    return history


def flips(history: list[dict[Pair, str]], drop: set[Pair]) -> list[int]:
    """Flips per run from the second on, counted over the pairs not in `drop`."""
    out = []
    for before, after in itertools.pairwise(history):
        out.append(sum(1 for p, r in after.items() if p not in drop and before.get(p) != r))
    return out


def switched_at(history: list[dict[Pair, str]], block: set[Pair]) -> dict[Pair, int | None]:
    """The first run from CHANGE_RUN on at which each block pair holds, from then on, its final route."""
    out: dict[Pair, int | None] = {}
    for pair in block:
        final = history[-1][pair]
        first = None
        for run in range(len(history), CHANGE_RUN - 1, -1):
            if history[run - 1][pair] != final:
                break
            first = run
        out[pair] = first
    return out


def report(universe: Universe, history: dict[str, list[dict[Pair, str]]]) -> dict:
    noise_flips = {name: flips(h, universe.block) for name, h in history.items()}
    print("\nroute flips per run outside the block (run 2 onwards):")
    print("run  " + " ".join(f"{r:>4d}" for r in range(2, len(history["off"]) + 1)))
    for name, values in noise_flips.items():
        print(f"{name:<4} " + " ".join(f"{v:>4d}" for v in values))
    off, on = sum(noise_flips["off"]), sum(noise_flips["on"])
    reduction = 1 - on / off if off else 0.0
    print(f"total flips outside the block: off {off}, on {on} -> {reduction:.1%} fewer")
    if len(history["off"]) < CHANGE_RUN:
        return {"flips": noise_flips, "reduction": reduction}
    for name, h in history.items():
        at = switched_at(h, universe.block)
        runs = sorted(r for r in at.values() if r is not None)
        late = [r for r in runs if r > CHANGE_RUN]
        before = h[CHANGE_RUN - 2]
        changed = sum(1 for p in universe.block if h[-1][p] != before[p])
        print(
            f"block ({len(universe.block)} pairs, true score {BLOCK_BEFORE} -> {BLOCK_AFTER} at run {CHANGE_RUN}), "
            f"hysteresis {name}: {changed} changed route; switched at run {CHANGE_RUN}: "
            f"{sum(1 for r in runs if r == CHANGE_RUN)}, later: {len(late)}"
            + (f" (latest run {max(late)})" if late else "")
        )
    return {"flips": noise_flips, "reduction": reduction}


def chart(history: dict[str, list[dict[Pair, str]]], universe: Universe, path: Path) -> None:
    import altair as alt  # only for the chart

    rows = [
        {"run": run, "hysteresis": name, "route flips": n}
        for name, h in history.items()
        for run, n in enumerate(flips(h, set()), start=2)
    ]
    lines = (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("run:Q", scale=alt.Scale(domain=[2, len(history["off"])]), title="run"),
            y=alt.Y("route flips:Q", title="route flips vs the run before"),
            color=alt.Color("hysteresis:N", title="hysteresis"),
        )
    )
    change = (
        alt.Chart(alt.Data(values=[{"run": CHANGE_RUN}])).mark_rule(strokeDash=[4, 4], color="gray").encode(x="run:Q")
    )
    title = (
        f"Route flips per run, {len(universe.targets)} targets x {len(universe.symbols)} symbols "
        f"(regime change of {len(universe.block)} pairs at run {CHANGE_RUN})"
    )
    (lines + change).properties(width=640, height=300, title=title).save(str(path))
    print(f"chart: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--noise", type=float, default=0.01, help="standard deviation of a score's run-to-run noise")
    parser.add_argument("--band", type=float, default=None, help="hysteresis band (default: the shipped default)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--chart", type=Path, default=None, help="write the flips-per-run chart (SVG or PNG)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="trainplan-churn-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        history = churn(args, work)
        if args.chart is not None:
            rng = random.Random(args.seed)
            chart(history, make_universe(args.targets, args.symbols, rng), args.chart)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
