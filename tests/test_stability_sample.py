"""Stability on the bundled sample, end to end from the JSON files: the models agree with the Python reference
computed straight from the snapshot files, and the categories reach routing_candidates and the routes."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from tests.conftest import SAMPLE_RUN
from tests.stability_harness import (
    CS_METHOD,
    SIGNATURES,
    SYMBOL_METHOD,
    Policy,
    Snapshot,
    reference_stability,
)


def _sample_scopes() -> dict[tuple[str, str | None], list[Snapshot]]:
    universes: dict[tuple[str, str], str] = {}
    for meta in SAMPLE_RUN.glob("targets/*/reproducibility/SYMBOL_SPECIFIC/symbol=*/cohort=*/metadata.json"):
        doc = json.loads(meta.read_text())
        symbol = meta.parent.parent.name.removeprefix("symbol=")
        universes[(doc["target"], doc["universe_sig"])] = symbol
    scopes: dict[tuple[str, str | None], list[Snapshot]] = {}
    for path in sorted(SAMPLE_RUN.glob("targets/*/reproducibility/feature_importance_snapshots/**/*.json")):
        doc = json.loads(path.read_text())
        if doc["method"] == CS_METHOD:
            scope = (doc["target"], None)
        elif doc["method"] == SYMBOL_METHOD:
            scope = (doc["target"], universes[(doc["target"], doc["universe_sig"])])
        else:
            continue
        snap = Snapshot(
            file=str(path),
            target=doc["target"],
            method=doc["method"],
            universe_sig=doc["universe_sig"],
            created_at=datetime.fromisoformat(doc["created_at"]),
            features=doc["features"],
            signatures={name: doc.get(f"{name}_signature") for name in SIGNATURES},
        )
        scopes.setdefault(scope, []).append(snap)
    return scopes


def test_sample_stability_matches_the_reference(sample_con: duckdb.DuckDBPyConnection) -> None:
    cur = sample_con.execute("select * from int_stability__by_scope")
    names = [d[0] for d in cur.description]
    rows = {(r[0], r[1]): dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    expected = _sample_scopes()
    assert set(rows) == set(expected)
    for scope, members in expected.items():
        want = reference_stability(members, Policy())
        got = rows[scope]
        assert (got["stability"], got["stability_reason"], got["n_snapshots"], got["n_comparisons"]) == (
            want["stability"],
            want["stability_reason"],
            want["n_snapshots"],
            want["n_comparisons"],
        ), scope
        for key in ("mean_overlap", "std_overlap", "mean_tau", "std_tau"):
            assert abs(got[key] - want[key]) <= 1e-9, (scope, key)


def test_sample_stability_reaches_candidates_and_routes(sample_con: duckdb.DuckDBPyConnection) -> None:
    categories = dict(
        sample_con.execute(
            "select stability, count(*) from routing_candidates where stability_reason = 'classified' group by all"
        ).fetchall()
    )
    assert categories.get("STABLE", 0) > 0 and categories.get("DRIFTING", 0) > 0
    drifting_experimental = sample_con.execute(
        "select count(*) from routing_decisions "
        "where route = 'ROUTE_EXPERIMENTAL_ONLY' and local_stability = 'DRIFTING' and local_state = 'EXPERIMENTAL'"
    ).fetchone()[0]
    assert drifting_experimental > 0
    missing = sample_con.execute(
        "select count(*) from routing_candidates "
        "where stability_reason = 'classified' and (stability_mean_overlap is null or stability_n_comparisons = 0)"
    ).fetchone()[0]
    assert missing == 0
