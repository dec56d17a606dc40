"""The report's charts: Vega-Lite specs built with Altair from the same `Table`s the page prints beside them.

Colours are presentation only; the values they stand for (routes, lane states, stability classes, leakage
statuses) come from the data and the route seed. Every spec carries its data inline.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from trainplan.report.evidence import LEAKAGE_STATUSES
from trainplan.report.lanes import CS_LANE, SYMBOL_LANE
from trainplan.report.limits import NEAR_BOUNDARY
from trainplan.report.tables import Table

ROUTE_COLOURS = {
    "ROUTE_CROSS_SECTIONAL": "#4c78a8",
    "ROUTE_SYMBOL_SPECIFIC": "#f58518",
    "ROUTE_BOTH": "#54a24b",
    "ROUTE_EXPERIMENTAL_ONLY": "#b279a2",
    "ROUTE_BLOCKED": "#bab0ac",
}
STATE_COLOURS = {"STRONG": "#1a9850", "WEAK_BUT_OK": "#91cf60", "EXPERIMENTAL": "#fdae61", "DISALLOWED": "#d73027"}
STABILITY_COLOURS = {"STABLE": "#1a9850", "DRIFTING": "#fdae61", "DIVERGED": "#d73027", "UNKNOWN": "#bab0ac"}
LEAKAGE_COLOURS = {"SAFE": "#1a9850", "SUSPECT": "#fdae61", "BLOCKED": "#d73027", "UNKNOWN": "#bab0ac"}
CHANGE_COLOURS = {"gained": "#1a9850", "switched": "#4c78a8", "lost": "#d73027"}
OTHER = "#7f7f7f"
COUNT_AXIS = alt.Axis(tickMinStep=1)  # counts: no ticks between whole numbers
WIDTH = 640
ROW = 16  # pixels per target row
CANVAS_MARKS = 3_000  # more marks than this: draw on a canvas, not in SVG


def _scale(values: list[str], colours: dict[str, str]) -> alt.Scale:
    """Known values first in their colours' order, then any other value (grey)."""
    domain = [v for v in colours if v in values] + sorted({v for v in values if v not in colours})
    return alt.Scale(domain=domain, range=[colours.get(v, OTHER) for v in domain])


def _title(text: str, note: str | None) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=note or alt.Undefined, anchor="start")


# Every chart reads one named dataset, attached after Altair has validated the spec (validating thousands of
# inline rows would take seconds and check nothing of the chart).
DATA = alt.Data(name="data")


def _spec(chart: alt.TopLevelMixin, values: list[dict[str, Any]], marks: int = 0) -> dict[str, Any]:
    spec = chart.to_dict()
    spec["datasets"] = {"data": values}
    spec["usermeta"] = {"renderer": "canvas" if marks > CANVAS_MARKS else "svg"}
    return spec


def _row_step(n_rows: int) -> int:
    """Pixels per target row: readable labels up to a few hundred targets, then a fixed overall height."""
    if n_rows <= 60:
        return ROW
    return 11 if n_rows <= 300 else max(3, 3300 // n_rows)


def routes_per_target(t: Table, routes: list[str]) -> dict[str, Any]:
    present = [r for r in routes if r in t.columns]
    n = len(t.rows)
    chart = (
        alt.Chart(DATA)
        .transform_fold(present, as_=["route", "pairs"])
        .transform_calculate(order=f"indexof({present!r}, datum.route)")
        .mark_bar()
        .encode(
            y=alt.Y("target:N", sort=None, title=None),
            x=alt.X("pairs:Q", stack="zero", title="symbol pairs", axis=COUNT_AXIS),
            color=alt.Color("route:N", scale=_scale(present, ROUTE_COLOURS), legend=alt.Legend(orient="top")),
            order=alt.Order("order:Q"),
            tooltip=["target:N", "route:N", "pairs:Q", alt.Tooltip("CS lane:N")],
        )
        .properties(width=WIDTH, height=alt.Step(_row_step(n)), title=_title("Routes per target", None))
    )
    return _spec(chart, t.records(), n * len(present))


def route_matrix(t: Table, bucket: int, note: str | None) -> dict[str, Any]:
    routes = t.column("most frequent route")
    n_cells = len(t.rows)
    n_columns = len(set(t.column("cell"))) or 1
    n_targets = len(set(t.column("target"))) or 1
    step = max(2, min(22, 1000 // n_columns))
    if bucket == 1:
        x = alt.X("symbols:N", sort=alt.EncodingSortField("cell"), title="symbol", axis=alt.Axis(labelOverlap=True))
    else:
        x = alt.X(
            "cell:O", title=f"symbols, {bucket:,} per cell (alphabetical)", axis=alt.Axis(labels=False, ticks=False)
        )
    encode: dict[str, Any] = {
        "x": x,
        "y": alt.Y("target:N", sort=None, title=None),
        "color": alt.Color(
            "most frequent route:N", scale=_scale(routes, ROUTE_COLOURS), legend=alt.Legend(orient="top", title="route")
        ),
        "tooltip": ["target:N", "symbols:N", "pairs:Q", "most frequent route:N", alt.Tooltip("share:Q", format=".0%")],
    }
    if bucket > 1:
        encode["opacity"] = alt.Opacity("share:Q", scale=alt.Scale(domain=[0, 1], range=[0.25, 1]), legend=None)
    drawn = ("target", "cell", "symbols", "pairs", "most frequent route", "share")
    values = [{k: r[k] for k in drawn} for r in t.records()]
    chart = (
        alt.Chart(DATA)
        .mark_rect()
        .encode(**encode)
        .properties(
            width=alt.Step(step),
            height=alt.Step(_row_step(n_targets)),
            title=_title("Route of every target x symbol pair", note),
        )
    )
    return _spec(chart, values, n_cells)


def _union(*parts: tuple[str, Table, dict[str, str]]) -> list[dict[str, Any]]:
    """Rows of several tables in one dataset (a faceted layer chart reads one), each tagged with its `kind` and
    with columns renamed to the shared field names."""
    out = []
    for kind, t, rename in parts:
        for record in t.records():
            out.append({"kind": kind, **{rename.get(k, k): v for k, v in record.items()}})
    return out


def score_strip(points: Table, thresholds: Table, caps: Table, note: str | None) -> dict[str, Any]:
    values = _union(
        ("point", points, {"task class": "task_class", "near boundary": "near"}),
        ("threshold", thresholds, {"task class": "task_class", "threshold": "score", "held for": "held_for"}),
        ("cut", caps, {"task class": "task_class", "best cut score": "score"}),
    )
    for record in values:
        if record["kind"] == "cut":
            record["lane"] = SYMBOL_LANE
    n_targets = len(set(thresholds.column("target")) | set(points.column("target"))) or 1
    step = _row_step(n_targets)
    base = alt.Chart().encode(
        y=alt.Y("target:N", sort=None, title=None),
        x=alt.X("score:Q", title="score", scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=6, labelOverlap=True)),
    )
    ticks = (
        base.transform_filter(alt.datum.kind == "threshold")
        .mark_tick(color="#222", thickness=2, size=step)
        .encode(tooltip=["target:N", alt.Tooltip("score:Q", title="threshold"), "held_for:N"])
    )
    cuts = (
        base.transform_filter(alt.datum.kind == "cut")
        .mark_tick(color="#c00", thickness=3, size=step)
        .encode(tooltip=["target:N", alt.Tooltip("score:Q", title="best cut score"), "cap:Q", "kept:Q", "cut:Q"])
    )
    states = [s for s in points.column("state") if s]
    dots = (
        base.transform_filter(alt.datum.kind == "point")
        .mark_point(filled=True)
        .encode(
            color=alt.Color("state:N", scale=_scale(states, STATE_COLOURS), legend=alt.Legend(orient="top")),
            size=alt.condition(alt.datum.near, alt.value(120), alt.value(45)),
            stroke=alt.condition(alt.datum.near, alt.value("#000"), alt.value(None)),
            strokeWidth=alt.value(1.5),
            opacity=alt.condition(alt.datum.near, alt.value(1), alt.value(0.55)),
            tooltip=["lane:N", "target:N", "symbol:N", "state:N", "score:Q", "threshold:Q", "margin:Q", "near:N"],
        )
    )
    layers = (ticks, cuts, dots) if caps.rows else (ticks, dots)
    layered = alt.layer(*layers).properties(width=420, height=alt.Step(step))
    text = (
        f"Score against the threshold it was held to (black tick), per lane; outlined: within ±{NEAR_BOUNDARY} of it; "
        "red tick: the experimental cap's best cut score"
    )
    chart = (
        layered.facet(
            data=DATA,
            row=alt.Row("task_class:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
            column=alt.Column("lane:N", title=None),
        )
        .resolve_scale(x="independent", y="independent")
        .properties(title=_title(text, note))
    )
    return _spec(chart, values, len(points.rows) + len(thresholds.rows))


def margin_histogram(t: Table, width: float) -> dict[str, Any]:
    binned = [r for r in t.records() if r["margin from"] is not None]
    states = [r["state"] for r in binned if r["state"]]
    band = [{"lane": lane, "x": -NEAR_BOUNDARY, "x2": NEAR_BOUNDARY} for lane in sorted({r["lane"] for r in binned})]
    values = [{"kind": "bin", **r} for r in binned] + [{"kind": "band", **b} for b in band]
    bars = (
        alt.Chart()
        .transform_filter(alt.datum.kind == "bin")
        .mark_bar()
        .encode(
            x=alt.X("margin from:Q", bin="binned", title=f"margin = score - held threshold (bins of {width:g})"),
            x2="margin to:Q",
            y=alt.Y("decisions:Q", stack="zero", title="lane decisions", axis=COUNT_AXIS),
            color=alt.Color("state:N", scale=_scale(states, STATE_COLOURS), legend=alt.Legend(orient="top")),
            tooltip=["lane:N", "state:N", "margin from:Q", "margin to:Q", "decisions:Q"],
        )
    )
    near = (
        alt.Chart()
        .transform_filter(alt.datum.kind == "band")
        .mark_rect(color="#ffe08a", opacity=0.5)
        .encode(x="x:Q", x2="x2:Q")
    )
    chart = (
        alt.layer(near, bars)
        .properties(width=WIDTH, height=140)
        .facet(data=DATA, row=alt.Row("lane:N", title=None))
        .resolve_scale(y="independent")
        .properties(
            title=_title(
                "Margin to the held threshold, every lane decision",
                f"yellow band: within ±{NEAR_BOUNDARY} of a threshold; decisions without a margin (hard blocks, "
                "no score) are in the table only",
            )
        )
    )
    return _spec(chart, values, len(binned))


def stability_classes(t: Table) -> dict[str, Any]:
    classes = t.column("stability")
    chart = (
        alt.Chart(DATA)
        .mark_bar()
        .encode(
            y=alt.Y("lane:N", title=None),
            x=alt.X("scopes:Q", stack="zero", axis=COUNT_AXIS),
            color=alt.Color("stability:N", scale=_scale(classes, STABILITY_COLOURS), legend=alt.Legend(orient="top")),
            tooltip=["lane:N", "stability:N", "reason:N", "scopes:Q"],
        )
        .properties(width=WIDTH, height=alt.Step(28), title=_title("Stability class per scope", None))
    )
    return _spec(chart, t.records(), len(t.rows))


def _band_values(bands: Table, lanes: list[str]) -> list[dict[str, Any]]:
    value = {key: v for _, key, v in bands.rows}
    out = []
    for cls, jkey, tkey in (
        ("DRIFTING", "stability_drifting_overlap_min", "stability_drifting_tau_min"),
        ("STABLE", "stability_stable_overlap_min", "stability_stable_tau_min"),
    ):
        if value.get(jkey) is None or value.get(tkey) is None:
            continue
        for lane in lanes:
            out.append(
                {"kind": "band", "lane": lane, "band": cls, "x": value[jkey], "x2": 1, "y": value[tkey], "y2": 1}
            )
    return out


def stability_scatter(t: Table, bands: Table, binned: bool, note: str | None) -> dict[str, Any]:
    lanes = sorted(set(t.column("lane"))) or [CS_LANE]
    classes = t.column("stability")
    if binned:
        points = [
            {
                "kind": "point",
                **r,
                "x": (r["Jaccard from"] + r["Jaccard to"]) / 2,
                "y": (r["tau from"] + r["tau to"]) / 2,
            }
            for r in t.records()
        ]
        mark: dict[str, Any] = {"shape": "square", "opacity": 0.6}
        size: Any = alt.Size("scopes:Q", legend=None, scale=alt.Scale(range=[20, 300]))
        tooltip = ["lane:N", "stability:N", "Jaccard from:Q", "tau from:Q", "scopes:Q"]
    else:
        points = [{"kind": "point", **r, "x": r["mean Jaccard"], "y": r["mean tau"]} for r in t.records()]
        mark = {"shape": "circle", "opacity": 0.8}
        size = alt.value(50)
        tooltip = ["lane:N", "target:N", "symbol:N", "stability:N", "mean Jaccard:Q", "std Jaccard:Q", "mean tau:Q",
                   "std tau:Q", "snapshots:Q"]  # fmt: skip
    values = _band_values(bands, lanes) + points
    regions = (
        alt.Chart()
        .transform_filter(alt.datum.kind == "band")
        .mark_rect(opacity=0.12)
        .encode(
            x="x:Q",
            x2="x2:Q",
            y="y:Q",
            y2="y2:Q",
            color=alt.Color("band:N", scale=_scale(["DRIFTING", "STABLE"], STABILITY_COLOURS), legend=None),
        )
    )
    dots = (
        alt.Chart()
        .transform_filter(alt.datum.kind == "point")
        .mark_point(**mark, filled=True)
        .encode(
            x=alt.X("x:Q", title="mean Jaccard of the top K", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("y:Q", title="mean Kendall tau", scale=alt.Scale(domain=[-1, 1])),
            color=alt.Color("stability:N", scale=_scale(classes, STABILITY_COLOURS), legend=alt.Legend(orient="top")),
            size=size,
            tooltip=tooltip,
        )
    )
    chart = (
        alt.layer(regions, dots)
        .properties(width=300, height=220)
        .facet(data=DATA, column=alt.Column("lane:N", title=None))
        .properties(
            title=_title(
                "Stability per scope: mean Jaccard and Kendall tau against the classification bands",
                note
                or "shaded: the STABLE (inner) and DRIFTING bands; a scope whose std is above the policy's "
                "maximum is DIVERGED wherever it sits",
            )
        )
    )
    return _spec(chart, values, len(points))


def leakage_per_target(t: Table) -> dict[str, Any]:
    statuses = list(LEAKAGE_STATUSES)
    folded = [f"symbols {s}" for s in statuses]
    n = len(t.rows)
    scale = _scale(statuses + t.column("CS status"), LEAKAGE_COLOURS)
    base = alt.Chart(DATA)
    cs = (
        base.mark_rect()
        .encode(
            y=alt.Y("target:N", sort=None, title=None),
            x=alt.X("lane:N", title=None, axis=alt.Axis(labelAngle=0)),
            color=alt.Color("CS status:N", scale=scale, legend=alt.Legend(title="status")),
            tooltip=["target:N", "CS status:N", "CS evidence:N", "CS evidence file:N"],
        )
        .transform_calculate(lane="'CS'")
        .properties(width=40, height=alt.Step(_row_step(n)))
    )
    symbols = (
        base.transform_fold(folded, as_=["key", "symbols"])
        .transform_calculate(status="replace(datum.key, 'symbols ', '')")
        .mark_bar()
        .encode(
            y=alt.Y("target:N", sort=None, title=None, axis=None),
            x=alt.X("symbols:Q", stack="zero", title="symbol scopes", axis=COUNT_AXIS),
            color=alt.Color("status:N", scale=scale, legend=None),
            tooltip=["target:N", "status:N", "symbols:Q"],
        )
        .properties(width=WIDTH - 80, height=alt.Step(_row_step(n)))
    )
    chart = (
        alt.hconcat(cs, symbols, spacing=6)
        .resolve_scale(color="shared")
        .properties(title=_title("Leakage status per target: its CS scope, and its symbols", None))
    )
    return _spec(chart, t.records(), n * 5)


def changes_per_target(t: Table) -> dict[str, Any]:
    kinds = ["gained", "switched", "lost"]
    changed = [r for r in t.records() if r["gained"] or r["lost"] or r["switched"]]
    chart = (
        alt.Chart(DATA)
        .transform_fold(kinds, as_=["change", "pairs"])
        .mark_bar()
        .encode(
            y=alt.Y("target:N", sort=None, title=None),
            x=alt.X("pairs:Q", stack="zero", title="pairs", axis=COUNT_AXIS),
            color=alt.Color("change:N", scale=_scale(kinds, CHANGE_COLOURS), legend=alt.Legend(orient="top")),
            tooltip=["target:N", "change:N", "pairs:Q"],
        )
        .properties(
            width=WIDTH,
            height=alt.Step(_row_step(len(changed))),
            title=_title(
                "Routes gained, switched and lost per target since the previous plan", "targets with a change"
            ),
        )
    )
    return _spec(chart, changed, len(changed) * 3)


def training_progress(t: Table) -> dict[str, Any]:
    chart = (
        alt.Chart(DATA)
        .mark_bar()
        .encode(
            y=alt.Y("route:N", title=None),
            x=alt.X("jobs:Q", stack="zero", axis=COUNT_AXIS),
            color=alt.Color("status:N", legend=alt.Legend(orient="top")),
            tooltip=["route:N", "status:N", "jobs:Q"],
        )
        .properties(width=WIDTH, height=alt.Step(22), title=_title("Training progress by route and status", None))
    )
    return _spec(chart, t.records(), len(t.rows))


def training_durations(t: Table) -> dict[str, Any]:
    base = alt.Chart(DATA).encode(y=alt.Y("job type:N", title=None), yOffset="status:N")
    span = base.mark_rule().encode(x=alt.X("min:Q", title="seconds"), x2="max:Q")
    mid = base.mark_tick(thickness=3).encode(
        x="median:Q", color="status:N", tooltip=["job type:N", "status:N", "attempts:Q", "median:Q", "p90:Q", "max:Q"]
    )
    chart = alt.layer(span, mid).properties(
        width=WIDTH, height=alt.Step(18), title=_title("Attempt durations: min to max, tick at the median", None)
    )
    return _spec(chart, t.records(), len(t.rows) * 2)


def training_metrics(t: Table) -> dict[str, Any]:
    base = alt.Chart(DATA).encode(y=alt.Y("metric:N", title=None), yOffset="job type:N")
    span = base.mark_rule().encode(x=alt.X("min:Q", title="value"), x2="max:Q")
    mean = base.mark_point(filled=True).encode(
        x="mean:Q", color="job type:N", tooltip=["job type:N", "metric:N", "jobs:Q", "min:Q", "mean:Q", "max:Q"]
    )
    chart = alt.layer(span, mean).properties(
        width=WIDTH,
        height=alt.Step(18),
        title=_title("Trainer metrics per job type: min to max, dot at the mean", None),
    )
    return _spec(chart, t.records(), len(t.rows) * 2)
