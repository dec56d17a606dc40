"""A plain-Python model of bench.churn, for choosing the hysteresis band: the same universe, noise and regime
change, the shipped classification thresholds, the lane rule with bars at threshold ± band
(docs/decision-semantics.md, "Hysteresis") and the strict route table — without dbt, so many bands take seconds.
It is a model, not the product: bench.churn measures trainplan itself.

    .venv/bin/python -m bench.churn_model [--bands 0.01,0.015,0.02,0.03] [--noise 0.01] [--seed 16]
"""

from __future__ import annotations

import argparse
import random

from bench.churn import BLOCK_AFTER, BLOCK_BEFORE, CHANGE_RUN, make_universe

CS_THRESHOLDS = {"STRONG": 0.58, "WEAK_BUT_OK": 0.52, "EXPERIMENTAL": 0.52}  # the shipped policy, classification
SYMBOL_THRESHOLDS = {"STRONG": 0.60, "WEAK_BUT_OK": 0.54, "EXPERIMENTAL": 0.52}
RANK = {"DISALLOWED": 0, "EXPERIMENTAL": 1, "WEAK_BUT_OK": 2, "STRONG": 3}
PRODUCTION = ("STRONG", "WEAK_BUT_OK")


def state(score: float, thresholds: dict[str, float], previous: str | None, band: float) -> str:
    for level in ("STRONG", "WEAK_BUT_OK", "EXPERIMENTAL"):
        bar = thresholds[level]
        if previous is not None and band:
            bar = bar - band if RANK[level] <= RANK[previous] else bar + band
        if score >= bar:
            return level
    return "DISALLOWED"


def route(cs: str, local: str) -> str:
    if cs in PRODUCTION and local in PRODUCTION:
        return "ROUTE_BOTH"
    if cs in PRODUCTION:
        return "ROUTE_CROSS_SECTIONAL"
    if local in PRODUCTION:
        return "ROUTE_SYMBOL_SPECIFIC"
    return "ROUTE_EXPERIMENTAL_ONLY" if "EXPERIMENTAL" in (cs, local) else "ROUTE_BLOCKED"


def simulate(band: float, runs: int, noise: float, seed: int) -> tuple[int, int]:
    """(route flips outside the block over runs 2..runs, block pairs that changed route at CHANGE_RUN)."""
    universe = make_universe(20, 500, random.Random(seed))
    rng = random.Random(seed + 1)
    prev_cs: dict = {}
    prev_local: dict = {}
    prev_routes: dict = {}
    flips = switched = 0
    for run in range(1, runs + 1):
        cs = {t: state(universe.cs_true[t] + rng.gauss(0, noise), CS_THRESHOLDS, prev_cs.get(t), band)
              for t in universe.targets}  # fmt: skip
        local, routes = {}, {}
        for pair, true in universe.symbol_true.items():
            if pair in universe.block:
                true = BLOCK_AFTER if run >= CHANGE_RUN else BLOCK_BEFORE
            local[pair] = state(true + rng.gauss(0, noise), SYMBOL_THRESHOLDS, prev_local.get(pair), band)
            routes[pair] = route(cs[pair[0]], local[pair])
        if prev_routes:
            flips += sum(1 for p, r in routes.items() if p not in universe.block and prev_routes[p] != r)
        if run == CHANGE_RUN:
            switched = sum(1 for p in universe.block if routes[p] != prev_routes[p])
        prev_cs, prev_local, prev_routes = cs, local, routes
    return flips, switched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bands", default="0.01,0.015,0.02,0.03")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    base, _ = simulate(0.0, args.runs, args.noise, args.seed)
    print(f"band 0 (off): {base} route flips outside the block")
    for band in (float(b) for b in args.bands.split(",")):
        flips, switched = simulate(band, args.runs, args.noise, args.seed)
        print(
            f"band {band}: {flips} flips, {1 - flips / base:.1%} fewer; block switched at run {CHANGE_RUN}: {switched}"
        )


if __name__ == "__main__":
    main()
