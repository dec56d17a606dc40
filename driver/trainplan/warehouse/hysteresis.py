"""What route hysteresis did in a build (docs/decision-semantics.md, "Hysteresis"), read from `routing_policy`
and `routing_decisions`; shared by the export (the master plan's `summary.hysteresis`) and the CLI summaries."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from trainplan.warehouse.database import relation_columns


@dataclass(frozen=True)
class HysteresisCounts:
    decisions_with_previous_route: int
    lanes_held: int
    flips_prevented: int  # decisions whose route differs from route_without_hysteresis

    def as_summary(self) -> dict[str, int]:
        return {
            "decisions_with_previous_route": self.decisions_with_previous_route,
            "lanes_held": self.lanes_held,
            "flips_prevented": self.flips_prevented,
        }


def hysteresis_setting(con: duckdb.DuckDBPyConnection) -> tuple[bool, str]:
    """(hysteresis.enabled, semantics) of the build's policy; (False, semantics) for a database without the key."""
    if "hysteresis_enabled" not in relation_columns(con, "routing_policy"):
        return False, "strict"
    enabled, semantics = con.execute("select hysteresis_enabled, semantics from routing_policy").fetchone()
    return bool(enabled), str(semantics)


def hysteresis_on(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether hysteresis decided this build: enabled under strict (foxml ignores it)."""
    enabled, semantics = hysteresis_setting(con)
    return enabled and semantics == "strict"


def hysteresis_counts(con: duckdb.DuckDBPyConnection) -> HysteresisCounts:
    known, held, prevented = con.execute(
        "select count(previous_route), count(*) filter (where cs_held_by_hysteresis and symbol is null) "
        "+ count(*) filter (where local_held_by_hysteresis), count(*) filter (where flip_prevented) "
        "from routing_decisions"
    ).fetchone()
    return HysteresisCounts(int(known), int(held), int(prevented))
