"""The report's numbers: every table the page prints equals SQL on the same relations (the sample run's database,
and synthetic databases for sizes and shapes the sample does not have)."""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from trainplan.plan.routes import route_names
from trainplan.report import changes, evidence, header, lanes, rejects, routes, sections
from trainplan.report.limits import NEAR_BOUNDARY
from trainplan.report.sources import plan_files, plan_metadata
from trainplan.report.training import LedgerRelations, LedgerShapeError, training_tables

from bench.plan_db import build_plan_db
from tests.conftest import Built


def previous_plan(built: Built, root: Path, *, keep_routing_plan: bool = True) -> Path:
    """A copy of the sample's plan with four pair routes and one CS state changed (what changed is known)."""
    shutil.copytree(built.out_dir / "globals", root / "globals", symlinks=False)
    routing = root / "globals" / "routing_plan" / "routing_plan.json"
    doc = json.loads(routing.read_text())
    targets = doc["targets"]
    targets["fwd_ret_4h"]["symbols"]["AAPL"]["route"] = "ROUTE_BOTH"  # BLOCKED now: lost
    targets["fwd_ret_5m"]["symbols"]["AAPL"]["route"] = "ROUTE_SYMBOL_SPECIFIC"  # BOTH now: switched
    targets["y_up_5d"]["symbols"]["PG"]["route"] = "ROUTE_BLOCKED"  # CROSS_SECTIONAL now: gained
    del targets["fwd_ret_60m"]["symbols"]["XOM"]  # BOTH now: gained (a new pair)
    targets["fwd_ret_4h"]["cross_sectional"]["state"] = "STRONG"
    routing.write_text(json.dumps(doc))
    if not keep_routing_plan:
        routing.unlink()
    return root


def _lane_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select 'cross-sectional', target, symbol, cs_state, cs_score, cs_threshold, cs_margin from routing_decisions "
        "where symbol is null union all select 'symbol', target, symbol, local_state, local_score, local_threshold, "
        "local_margin from routing_decisions where symbol is not null"
    ).fetchall()


# ------------------------------------------------------------------ 1. header


def test_header_counts_equal_sql(sample_built: Built, sample_con: duckdb.DuckDBPyConnection) -> None:
    meta = plan_metadata(sample_built.master_plan)
    rows = dict(header.header(sample_con, meta, sample_built.master_plan, sample_built.db_path).rows)
    sql = sample_con.execute(
        "select count(*) filter (where symbol is not null), count(distinct target) from routing_decisions"
    ).fetchone()
    assert (rows["pairs"], rows["targets"]) == sql
    assert rows["jobs"] == sample_con.execute("select count(*) from training_jobs").fetchone()[0] == meta["total_jobs"]
    assert rows["rejected inputs"] == sample_con.execute("select count(*) from rejected_inputs").fetchone()[0]
    assert rows["plan id"] == json.loads(sample_built.master_plan.read_text())["metadata"]["plan_id"]
    assert rows["database built from the same inputs"] == "yes"
    assert rows["semantics"] == "strict"
    assert rows["route hysteresis"] == "off"  # the shipped policy leaves it off: no counts
    assert "route flips prevented" not in rows


def test_header_says_nothing_of_hysteresis_a_database_does_not_hold(tmp_path: Path) -> None:
    with duckdb.connect() as con:
        con.execute("create table routing_decisions as select 't' as target, 's' as symbol")
        rows = dict(header.header(con, {}, tmp_path / "plan.json", tmp_path / "t.duckdb").rows)
    assert rows["policy"] is None and rows["targets"] == 1
    assert rows["route hysteresis"] is None  # no policy in the database: not known, not "off"


# ------------------------------------------------------------------ 2. routes


def test_routes_per_target_equal_sql(sample_con: duckdb.DuckDBPyConnection) -> None:
    t = routes.routes_per_target(sample_con)
    names = route_names()
    assert t.columns == ("target", "CS lane", *names, "pairs")
    expected = Counter(
        sample_con.execute("select target, route from routing_decisions where symbol is not null").fetchall()
    )
    cs = dict(sample_con.execute("select target, cs_state from routing_decisions where symbol is null").fetchall())
    assert [r[0] for r in t.rows] == sorted(cs)
    for record in t.records():
        assert record["CS lane"] == cs[record["target"]]
        assert [record[r] for r in names] == [expected[(record["target"], r)] for r in names]
        assert record["pairs"] == sum(record[r] for r in names) == 12


def test_route_matrix_has_one_cell_per_pair(sample_con: duckdb.DuckDBPyConnection) -> None:
    matrix = routes.route_matrix(sample_con)
    assert matrix.bucket == 1 and matrix.note is None
    got = {(r["target"], r["symbols"]): r["most frequent route"] for r in matrix.table.records()}
    expected = dict(
        ((t, s), r)
        for t, s, r in sample_con.execute(
            "select target, symbol, route from routing_decisions where symbol is not null"
        ).fetchall()
    )
    assert got == expected
    assert {r["pairs"] for r in matrix.table.records()} == {1}
    assert {r["share"] for r in matrix.table.records()} == {1.0}


def test_route_matrix_groups_symbols_past_the_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = build_plan_db(tmp_path / "m.duckdb", 7, 103)
    monkeypatch.setattr(routes, "HEATMAP_MAX_CELLS", 70)  # 10 columns for 7 targets: 11 symbols per cell
    with duckdb.connect(str(db), read_only=True) as con:
        matrix = routes.route_matrix(con)
        expected = Counter(
            con.execute("select target, route from routing_decisions where symbol is not null").fetchall()
        )
    assert matrix.bucket == math.ceil(103 / 10) == 11
    assert matrix.note and "11 neighbouring symbols" in matrix.note
    got: Counter = Counter()
    for record in matrix.table.records():
        counts = {r: record[r] for r in route_names()}
        assert record["pairs"] == sum(counts.values())
        assert counts[record["most frequent route"]] == max(counts.values())
        assert record["share"] == round(max(counts.values()) / record["pairs"], 4)
        got.update({(record["target"], r): n for r, n in counts.items() if n})
    assert got == expected
    assert len(matrix.table.rows) == 7 * 10


# ------------------------------------------------------------------ 3. score against threshold


def test_margin_histogram_counts_every_lane_decision(sample_con: duckdb.DuckDBPyConnection) -> None:
    hist = lanes.margin_histogram(sample_con)
    expected: Counter = Counter()
    for lane, _, _, state, _, _, margin in _lane_rows(sample_con):
        key = None if margin is None else math.floor(margin / hist.width)
        expected[(lane, state, key)] += 1
    got = Counter()
    for lane, state, low, high, n in hist.table.rows:
        if low is None:
            got[(lane, state, None)] += n
        else:
            assert math.isclose(high - low, hist.width)
            got[(lane, state, round(low / hist.width))] += n
    assert got == expected


def test_score_strip_draws_every_scored_pair_with_its_threshold(sample_con: duckdb.DuckDBPyConnection) -> None:
    strip = lanes.score_strip(sample_con)
    scored = [r for r in _lane_rows(sample_con) if r[4] is not None]
    assert strip.shown == strip.total == len(scored) and strip.note is None
    got = {(r["lane"], r["target"], r["symbol"]): r for r in strip.points.records()}
    for lane, target, symbol, state, score, threshold, margin in scored:
        point = got[(lane, target, symbol)]
        assert (point["state"], point["score"], point["threshold"], point["margin"]) == (
            state,
            score,
            threshold,
            margin,
        )
        assert point["near boundary"] == (margin is not None and abs(margin) <= NEAR_BOUNDARY)
    held = Counter((lane, t, th) for lane, t, _, _, _, th, _ in _lane_rows(sample_con) if th is not None)
    assert {(r["lane"], r["target"], r["threshold"]): r["decisions"] for r in strip.thresholds.records()} == held


def test_experimental_cap_table_equals_sql(sample_con: duckdb.DuckDBPyConnection) -> None:
    caps = lanes.score_strip(sample_con).caps
    expected = sample_con.execute("""
        select target, max(experimental_cap), count(experimental_rank),
            count(*) filter (where experimental_rank <= experimental_cap),
            count(*) filter (where experimental_rank > experimental_cap),
            max(local_score) filter (where experimental_rank > experimental_cap)
        from routing_decisions where symbol is not null group by target having count(experimental_rank) > 0
        order by target
    """).fetchall()
    assert expected, "the sample has experimental symbols"
    got = [(r["target"], r["cap"], r["experimental"], r["kept"], r["cut"], r["best cut score"]) for r in caps.records()]
    assert got == expected


def test_experimental_cap_cut_line_is_the_best_cut_score(tmp_path: Path) -> None:
    db = tmp_path / "cap.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("""
            create table routing_decisions as select * from (values
                ('t', 'A', 0.9::double, 1, 2, 4), ('t', 'B', 0.8, 2, 2, 4), ('t', 'C', 0.7, 3, 2, 4), ('t', 'D', 0.1, null, 2, 4)
            ) v(target, symbol, local_score, experimental_rank, experimental_cap, n_symbols_with_metrics)
        """)
    with duckdb.connect(str(db), read_only=True) as con:
        (cap,) = lanes.score_strip(con).caps.records()
    assert (cap["cap"], cap["experimental"], cap["kept"], cap["cut"]) == (2, 3, 2, 1)
    assert (cap["lowest kept score"], cap["best cut score"]) == (0.8, 0.7)


def test_score_strip_samples_keep_the_nearest_pair_of_each_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = build_plan_db(tmp_path / "s.duckdb", 5, 400)
    monkeypatch.setattr(lanes, "STRIP_MAX_POINTS", 40)  # 10 groups (5 targets x 2 lanes): 4 pairs each
    with duckdb.connect(str(db), read_only=True) as con:
        strip = lanes.score_strip(con)
        nearest = con.execute(
            "select target, min(abs(local_margin)) from routing_decisions where symbol is not null group by 1"
        ).fetchall()
    assert strip.total == 5 * 400 + 5 and strip.shown <= 40 and strip.note and "of 2,005" in strip.note
    for target, margin in nearest:
        drawn = [abs(r["margin"]) for r in strip.points.records() if r["lane"] == "symbol" and r["target"] == target]
        assert len(drawn) == 4 and min(drawn) == margin


# ------------------------------------------------------------------ 4. stability and leakage


def test_stability_tables_equal_sql(sample_con: duckdb.DuckDBPyConnection) -> None:
    classes = evidence.stability_classes(sample_con)
    expected = Counter(
        sample_con.execute(
            "select case when symbol is null then 'cross-sectional' else 'symbol' end, stability from routing_candidates"
        ).fetchall()
    )
    assert {(r["lane"], r["stability"]): r["scopes"] for r in classes.records()} == expected
    scatter = evidence.stability_scatter(sample_con)
    assert not scatter.binned
    rows = sample_con.execute(
        "select target, symbol, stability, stability_mean_overlap, stability_mean_tau from routing_candidates "
        "where stability_mean_overlap is not null and stability_mean_tau is not null"
    ).fetchall()
    got = {
        (r["target"], r["symbol"]): (r["stability"], r["mean Jaccard"], r["mean tau"]) for r in scatter.table.records()
    }
    assert got == {(t, s): (c, j, k) for t, s, c, j, k in rows}
    bands = {key: value for _, key, value in evidence.stability_bands(sample_con).rows}
    policy = sample_con.execute(f"select {', '.join(bands)} from routing_policy").fetchone()
    assert tuple(bands.values()) == policy and "stability_stable_overlap_min" in bands


def test_stability_bins_count_every_scope(
    sample_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evidence, "STABILITY_MAX_POINTS", 1)
    scatter = evidence.stability_scatter(sample_con)
    assert scatter.binned and scatter.note
    n = sample_con.execute(
        "select count(*) from routing_candidates where stability_mean_overlap is not null"
    ).fetchone()
    assert sum(scatter.table.column("scopes")) == scatter.total == n[0]
    for r in scatter.table.records():
        assert r["Jaccard from"] < r["Jaccard to"] and r["tau from"] < r["tau to"]


def test_leakage_per_target_equals_sql_and_names_the_evidence_file(sample_con: duckdb.DuckDBPyConnection) -> None:
    leak = evidence.leakage(sample_con)
    assert leak.source == "int_leakage__evidence"
    cs = dict(
        sample_con.execute("select target, leakage_status from routing_candidates where symbol is null").fetchall()
    )
    symbols = Counter(
        sample_con.execute("select target, leakage_status from routing_candidates where symbol is not null").fetchall()
    )
    by_target = {r["target"]: r for r in leak.per_target.records()}
    assert sorted(by_target) == sorted(cs)
    for target, record in by_target.items():
        assert record["CS status"] == cs[target]
        for status in evidence.LEAKAGE_STATUSES:
            assert record[f"symbols {status}"] == symbols[(target, status)]
    # the file that set each CS status: the most severe evidence of the CS scope
    assert "confirmed_quarantine.json" in by_target["fwd_ret_5m"]["CS evidence file"]
    assert "suspects_CROSS_SECTIONAL_ALL.json" in by_target["fwd_ret_5m"]["CS evidence file"]
    assert "target_predictability_rankings.csv" in by_target["ret_same_day_close"]["CS evidence file"]
    assert leak.per_target.note and "files relative to" in leak.per_target.note
    flagged = sample_con.execute(
        "select count(*) from routing_candidates where symbol is not null and leakage_status <> 'SAFE'"
    ).fetchone()[0]
    assert len(leak.flagged.rows) == flagged and all(r["evidence file"] for r in leak.flagged.records())


def test_leakage_without_the_evidence_relation_names_the_candidate_file(tmp_path: Path) -> None:
    db = build_plan_db(tmp_path / "l.duckdb", 2, 3)
    with duckdb.connect(str(db), read_only=True) as con:
        leak = evidence.leakage(con)
        stability = sections.evidence_section(con).figures[1]  # no stability metrics: a table and a note, no chart
    assert stability.chart is None and stability.note == sections.NO_STABILITY
    assert leak.source == "routing_candidates.source_file"
    assert [r["symbols SAFE"] for r in leak.per_target.records()] == [3, 3]


# ------------------------------------------------------------------ 5. rejected inputs


def test_rejected_inputs_listed_in_order_and_cut_with_a_note(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("""
            create table rejected_inputs as select 'f' || lpad((range % 7)::varchar, 2, '0') || '.json' as source_file,
                range as source_row, 'cohort_metrics' as artifact, null::varchar as target, null::varchar as symbol,
                'bad ' || (range % 3) as problem, 'good' as expected
            from range(1005)
        """)
    with duckdb.connect(str(db), read_only=True) as con:
        listing = rejects.rejected_inputs(con)
        by_problem = rejects.rejects_by_problem(con)
        first = con.execute(
            "select source_file, source_row, problem from rejected_inputs "
            "order by source_file, source_row nulls first, problem limit 1000"
        ).fetchall()
    assert listing is not None and by_problem is not None
    assert [(r["file"], r["row"], r["problem"]) for r in listing.records()] == first
    assert listing.note == "first 1,000 of 1,005 (all of them: trainplan sql)"
    assert sorted(by_problem.column("inputs")) == [335, 335, 335]


def test_rejected_inputs_absent_or_empty(tmp_path: Path, sample_con: duckdb.DuckDBPyConnection) -> None:
    db = build_plan_db(tmp_path / "n.duckdb", 1, 1)
    with duckdb.connect(str(db), read_only=True) as con:
        assert rejects.rejected_inputs(con) is None
        assert "no rejected_inputs" in (sections.rejects_section(con).message or "")
    assert "No input was rejected" in (sections.rejects_section(sample_con).message or "")


# ------------------------------------------------------------------ 6. what changed


@pytest.mark.parametrize("keep_routing_plan", [True, False], ids=["pairs", "jobs"])
def test_changes_since_a_previous_plan(
    sample_built: Built, sample_con: duckdb.DuckDBPyConnection, tmp_path: Path, keep_routing_plan: bool
) -> None:
    previous = previous_plan(sample_built, tmp_path, keep_routing_plan=keep_routing_plan)
    found = changes.changes(sample_con, previous, "p")
    per_target = {r["target"]: r for r in found.per_target.records()}
    moved = {(r["target"], r["symbol"]): (r["before"], r["now"], r["change"]) for r in found.pairs.records()}
    if keep_routing_plan:
        assert found.basis == "pairs"
        assert moved == {
            ("fwd_ret_4h", "AAPL"): ("ROUTE_BOTH", "ROUTE_BLOCKED", "lost"),
            ("fwd_ret_5m", "AAPL"): ("ROUTE_SYMBOL_SPECIFIC", "ROUTE_BOTH", "switched"),
            ("y_up_5d", "PG"): ("ROUTE_BLOCKED", "ROUTE_CROSS_SECTIONAL", "gained"),
            ("fwd_ret_60m", "XOM"): (None, "ROUTE_BOTH", "gained"),
        }
        assert per_target["fwd_ret_4h"]["CS lane state before"] == "STRONG"
        assert per_target["fwd_ret_4h"]["CS lane state now"] == "DISALLOWED"
        n_pairs = sample_con.execute("select count(*) from routing_decisions where symbol is not null").fetchone()[0]
        assert sum(r["unchanged"] for r in per_target.values()) == n_pairs - 4
    else:  # the jobs of the copy are the sample's own: nothing changed
        assert found.basis == "jobs" and moved == {} and not found.any
        n_jobs = sample_con.execute("select count(*) from training_jobs where symbol is not null").fetchone()[0]
        assert sum(r["unchanged"] for r in per_target.values()) == n_jobs
    assert sum(r[3] for r in found.transitions.rows) == len(moved)


# ------------------------------------------------------------------ 7. training (the ledger hook)


def test_training_section_without_a_ledger_says_so() -> None:
    section = sections.training_section(None)
    assert section.figures == () and section.message == sections.NO_TRAINING
    assert training_tables(None) is None


def ledger_relations(con: duckdb.DuckDBPyConnection) -> LedgerRelations:
    return LedgerRelations(
        progress=con.sql(
            "select * from (values ('ROUTE_BOTH', 'done', 3), ('ROUTE_BOTH', 'failed', 1), "
            "('ROUTE_CROSS_SECTIONAL', 'pending', 2)) v(route, status, jobs)"
        ),
        durations=con.sql(
            "select * from (values ('symbol_specific', 'done', 10.0), ('symbol_specific', 'done', 30.0), "
            "('cross_sectional', 'failed', 5.0)) v(training_type, status, seconds)"
        ),
        metrics=con.sql(
            "select * from (values ('symbol_specific', 'auc', 0.6), ('symbol_specific', 'auc', 0.7), "
            "('cross_sectional', 'r2', 0.1)) v(training_type, metric, value)"
        ),
    )


def test_training_tables_from_ledger_relations() -> None:
    con = duckdb.connect()
    found = training_tables(ledger_relations(con))
    assert found is not None and found.durations is not None and found.metrics is not None
    assert found.progress.rows == (
        ("ROUTE_BOTH", "done", 3),
        ("ROUTE_BOTH", "failed", 1),
        ("ROUTE_CROSS_SECTIONAL", "pending", 2),
    )
    durations = {(r["job type"], r["status"]): r for r in found.durations.records()}
    assert durations[("symbol_specific", "done")]["attempts"] == 2
    assert durations[("symbol_specific", "done")]["median"] == 20.0
    metrics = {(r["job type"], r["metric"]): r for r in found.metrics.records()}
    assert metrics[("symbol_specific", "auc")]["mean"] == pytest.approx(0.65)
    assert len(sections.training_section(ledger_relations(con)).figures) == 3
    with pytest.raises(LedgerShapeError, match="status"):
        training_tables(LedgerRelations(progress=con.sql("select 'x' as route, 1 as jobs")))


def test_plan_files_of_the_sample(sample_built: Built) -> None:
    files = plan_files(sample_built.out_dir)
    assert files.master.name == "master_training_plan.json" and files.routing_plan is not None
