"""`trainplan explain TARGET [SYMBOL]`: the evidence and rules behind a decision, as dbt recorded them.

Everything shown is read from the database (`int_routing__lane_signals` when present, `routing_decisions`,
`training_jobs`); the comparisons shown per rule restate the recorded values and thresholds, and the state, rule
and route shown as decided are dbt's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from trainplan.warehouse.database import fetch_dicts, relation_columns

LANE_SIGNALS = "int_routing__lane_signals"


@dataclass(frozen=True)
class Explanation:
    target: str
    symbol: str | None
    decision: dict[str, Any]
    lanes: list[dict[str, Any]]  # CS lane, then the symbol lane (lane_signals or candidate rows)
    jobs: list[dict[str, Any]]
    symbol_routes: list[tuple[str, int]]


def _scope(symbol: str | None) -> str:
    return "symbol is null" if symbol is None else "symbol = ?"


def _rows(con: duckdb.DuckDBPyConnection, relation: str, target: str, symbol: str | None) -> list[dict[str, Any]]:
    params = [target] if symbol is None else [target, symbol]
    return fetch_dicts(con, f"select * from {relation} where target = ? and {_scope(symbol)}", params)


def explain(con: duckdb.DuckDBPyConnection, target: str, symbol: str | None) -> Explanation | None:
    """The decision for (target, symbol), or the target's CS decision; None when the database has no such row."""
    decision = _rows(con, "routing_decisions", target, symbol)
    if not decision:
        return None
    lane_rel = LANE_SIGNALS if relation_columns(con, LANE_SIGNALS) else "routing_candidates"
    lanes = _rows(con, lane_rel, target, None) + ([] if symbol is None else _rows(con, lane_rel, target, symbol))
    jobs = _rows(con, "training_jobs", target, symbol)
    routes = []
    if symbol is None:
        routes = con.execute(
            "select route, count(*) from routing_decisions where target = ? and symbol is not null "
            "group by route order by route",
            [target],
        ).fetchall()
    return Explanation(target, symbol, decision[0], lanes, jobs, [(r, int(n)) for r, n in routes])


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "[]"
    return str(value)


def _holds(ok: bool | None) -> str:
    return "—" if ok is None else ("[green]holds[/]" if ok else "[red]fails[/]")


# The lane's rules in evaluation order (int_routing__lane_signals, CTE `evaluated`): the first rule that holds
# decides `lane_rule`. Hard blocks are read from the stored `fails_*` columns; the score rules from `lane_rule`.
HARD_BLOCKS = (
    ("sample_size_below_min", "fails_sample_size"),
    ("leakage_blocked", "fails_leakage"),
    ("leakage_unreadable", "fails_leakage_unreadable"),
    ("too_few_successful_families", "fails_families"),
)
SCORE_RULES = ("strong", "weak_but_ok", "experimental")


def _score_rule_state(lane: dict[str, Any], rule: str) -> bool | None:
    """Whether a score rule decided the lane (True), was evaluated and did not (False), or was never reached (None)."""
    decided = lane.get("lane_rule")
    order = [name for name, _ in HARD_BLOCKS] + ["no_score", *SCORE_RULES]
    if decided not in order:  # below_thresholds / stability_not_allowed: every score rule was evaluated and failed
        return False
    return True if decided == rule else (False if order.index(decided) > order.index(rule) else None)


def _checks(lane: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(rule, value, threshold, margin, holds) in the order the lane's rules are evaluated, as dbt stored them."""
    score, stab = lane.get("score"), lane.get("stability")
    allow, exp_allow = lane.get("stability_allowlist") or [], lane.get("experimental_allowed_stabilities") or []

    def margin(thr: Any) -> str:
        return _fmt(None if score is None or thr is None else score - thr)

    def passed(column: str) -> bool | None:
        value = lane.get(column)
        return None if value is None else not value

    rows = [
        ("sample_size ≥ minimum", _fmt(lane.get("sample_size")), _fmt(lane.get("min_sample_size")), "",
         _holds(passed("fails_sample_size"))),
        ("leakage not BLOCKED", f"{_fmt(lane.get('leakage_status'))} ({_fmt(lane.get('leakage_reason'))})",
         f"block_on_leakage={_fmt(lane.get('block_on_leakage'))}", "", _holds(passed("fails_leakage"))),
        ("leakage evidence readable", _fmt(lane.get("leakage_unreadable_evidence")), "", "",
         _holds(passed("fails_leakage_unreadable"))),
        ("successful families ≥ minimum", _fmt(lane.get("n_successful_families")),
         _fmt(lane.get("require_min_successful_families")), "", _holds(passed("fails_families"))),
    ]  # fmt: skip
    lane_on = bool(lane.get("enable_experimental_lane"))
    for rule, label, thr, allowed in (
        ("strong", "STRONG: score ≥ strong, stability allowed", lane.get("strong_threshold"), allow),
        ("weak_but_ok", "WEAK_BUT_OK: score ≥ min, stability allowed", lane.get("min_threshold"), allow),
        (
            "experimental",
            f"EXPERIMENTAL: lane {'on' if lane_on else 'off'}, score ≥ experimental, stability allowed",
            lane.get("experimental_threshold"),
            exp_allow,
        ),
    ):
        state = _score_rule_state(lane, rule) if "lane_rule" in lane else None
        shown = "[dim]not reached[/]" if state is None and "lane_rule" in lane else _holds(state)
        rows.append((label, f"{_fmt(score)} / {_fmt(stab)}", f"{_fmt(thr)} / {_fmt(allowed)}", margin(thr), shown))
    return rows


HYSTERESIS_STATUS = {
    "first_run": "no previous state for this lane (first run): decided on the bare thresholds",
    "hard_block": "a hard block or a missing score acts at once: hysteresis does not apply",
    "min_runs": "the lane is younger than min_runs_before_change: it keeps its previous state",
    "band": "levels above the previous state need threshold + band, levels at or below it are kept down to "
    "threshold - band",
    "ignored_under_foxml": "hysteresis.enabled is ignored under semantics: foxml",
}


def _hysteresis_line(lane: dict[str, Any]) -> str | None:
    """What route hysteresis did to a lane (int_routing__lane_signals), None while it is off."""
    status = lane.get("hysteresis_status")
    if status in (None, "off"):
        return None
    text = f"hysteresis ({status}): {HYSTERESIS_STATUS.get(status, status)}"
    if status in ("band", "min_runs", "hard_block"):
        text += f"; previous state {_fmt(lane.get('previous_state'))}"
    if status == "band":
        text += (
            f"; band {_fmt(lane.get('hysteresis_band'))}: bars strong {_fmt(lane.get('strong_bar'))}, "
            f"min {_fmt(lane.get('min_bar'))}, experimental {_fmt(lane.get('experimental_bar'))}"
        )
    if lane.get("held_by_hysteresis"):
        needed = lane.get("hysteresis_needed_margin")
        text += (
            f"; [bold]held[/] at {lane.get('signal_state')} (without hysteresis "
            f"{lane.get('signal_state_without_hysteresis')}"
            + ("" if needed is None else f"; a change needed a margin of {needed:+.4f} over the threshold crossed")
            + ")"
        )
    return text


def _decision_hysteresis(d: dict[str, Any]) -> str | None:
    """The decision's hysteresis summary: previous route, route without hysteresis, flip prevented."""
    statuses = {d.get("cs_hysteresis_status"), d.get("local_hysteresis_status")} - {None, "off"}
    if not statuses:
        return None
    if statuses == {"ignored_under_foxml"}:
        return "hysteresis: ignored under semantics: foxml"
    held = "[bold]held by hysteresis[/]" if d.get("held_by_hysteresis") else "not held by hysteresis"
    flip = (
        f"; flip prevented: without hysteresis the route would be {d.get('route_without_hysteresis')}"
        if d.get("flip_prevented")
        else ""
    )
    return f"hysteresis: {held}; previous route {_fmt(d.get('previous_route'))}{flip}"


def print_explanation(ex: Explanation, console: Console) -> None:
    scope = f"{ex.target} / {ex.symbol}" if ex.symbol is not None else f"{ex.target} (cross-sectional)"
    console.print(f"[bold]{scope}[/]")
    for lane in ex.lanes:
        name = "cross-sectional lane" if lane.get("symbol") is None else f"symbol lane ({lane['symbol']})"
        table = Table(title=f"{name}: rules in evaluation order")
        for col in ("rule", "value", "threshold", "margin", "check"):
            table.add_column(col)
        for row in _checks(lane):
            table.add_row(*row)
        console.print(table)
        evidence = Table(title=f"{name}: evidence", show_header=False)
        for key in (
            "task_type",
            "horizon_tier",
            "stability",
            "stability_reason",
            "stability_n_snapshots",
            "stability_mean_overlap",
            "stability_std_overlap",
            "stability_mean_tau",
            "stability_std_tau",
            "leakage_status",
            "leakage_reason",
            "failed_model_families",
            "score_stage",
            "cohort_id",
            "source_file",
        ):
            if key in lane:
                evidence.add_row(key, _fmt(lane[key]))
        console.print(evidence)
        if "lane_rule" in lane:
            console.print(
                f"decided: rule [bold]{lane['lane_rule']}[/] → state [bold]{lane.get('signal_state')}[/] "
                f"(threshold {_fmt(lane.get('held_threshold'))}, margin {_fmt(lane.get('margin'))})"
            )
        if (line := _hysteresis_line(lane)) is not None:
            console.print(line, soft_wrap=True)
    d = ex.decision
    final = Table(title="decision", show_header=False)
    for key in (
        "route",
        "rule",
        "cs_state",
        "local_state",
        "cs_threshold",
        "cs_margin",
        "local_threshold",
        "local_margin",
        "semantics",
    ):
        if key in d and (d[key] is not None or key in ("route", "rule")):
            final.add_row(key, _fmt(d[key]))
    final.add_row("reason", "; ".join(d.get("reasons") or []) or _fmt(d.get("cs_summary")))
    console.print(final)
    if (line := _decision_hysteresis(d)) is not None:
        console.print(line, soft_wrap=True)
    if ex.jobs:
        for job in ex.jobs:
            console.print(f"job: {job['job_id']} ({job['route']}, priority {job['priority']})")
    else:
        console.print("job: none for this scope")
    if ex.symbol_routes:
        console.print("symbol routes: " + ", ".join(f"{r} {n}" for r, n in ex.symbol_routes))
