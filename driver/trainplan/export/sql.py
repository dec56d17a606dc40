"""The SQL that turns the dbt relations into the plan files' text (DuckDB), one query per file or view.

Two temporary tables are prepared once per export, from the dbt relations only (no route is decided here):
`plan_jobs` (one row per training job: its columns and its JSON object, in the reference's key order, README "Plan files") and
`plan_routes` (one row per routing decision: the routing-plan entry of the target's cross-sectional lane or of a symbol).
Every file is then one ordered query whose rows are the file's text, streamed by `trainplan.export.stream`.
Rows that are elements of a JSON container start with ",\n" (the writer drops it before the first element).
"""

from __future__ import annotations

from trainplan.export.escape import SQL_UNSAFE_CLASS, sql_yaml_escape_chain

NL = "chr(10)"

# Optional columns of training_jobs copied into each job's metadata when the decisions model provides them.
OPTIONAL_JOB_METADATA = ("rule", "cs_threshold", "cs_margin", "local_threshold", "local_margin")


def json_object_sql(pairs: list[tuple[str, str]], raw: frozenset[str] = frozenset()) -> str:
    """A JSON object text built with one concat(): keys in this order, values through to_json (`raw` keys hold JSON
    text already). Same bytes as DuckDB's json_object, about a third cheaper on a million rows."""
    parts = []
    for i, (key, expr) in enumerate(pairs):
        parts.append(("'{" if i == 0 else "',") + f'"{key}":' + "'")
        parts.append(expr if key in raw else f"j({expr})")
    return "concat(" + ", ".join(parts) + ", '}')" if pairs else "'{}'"


def macros_sql() -> list[str]:
    """Temporary macros the queries share."""
    return [
        "create or replace temp macro j(x) as coalesce(to_json(x)::varchar, 'null')",
        "create or replace temp macro num(x) as case when isnan(x::double) or isinf(x::double) then null else x end",
        "create or replace temp macro yaml_str(s) as case when s is null then 'null' "
        f"when regexp_matches(s, '{SQL_UNSAFE_CLASS}') then " + sql_yaml_escape_chain("to_json(s)::varchar") + " "
        "else to_json(s)::varchar end",
        "create or replace temp macro yaml_plain(s) as coalesce(to_json(s)::varchar, 'null')",
        # the replace chain only where one of its characters occurs: a scan is far cheaper than three copies
        "create or replace temp macro md_cell(s) as case "
        f"when contains(s, '|') or contains(s, {NL}) or contains(s, chr(13)) "
        f"then replace(replace(replace(s, '|', '\\|'), {NL}, ' '), chr(13), ' ') else coalesce(s, '') end",
        "create or replace temp macro md_cut(s, n) as case when length(s) > n then left(s, n) || '...' else s end",
    ]


def plan_jobs_sql(job_columns: set[str], decision_columns: set[str]) -> str:
    """The plan_jobs table, in job order: families normalised through family_map, the CS job's stability. The
    metadata JSON is not stored (`metadata_json_sql`): built where the text is, it stays out of this table's sort."""
    extra = [c for c in OPTIONAL_JOB_METADATA if c in job_columns]
    extra_cols = "".join(
        f", {'num(j.' + c + ')' if c.endswith(('_threshold', '_margin')) else 'j.' + c} as num_or_str_{c}"
        for c in extra
    )
    stability = "cs_stability" if "cs_stability" in decision_columns else "null::varchar"
    excluded = (
        "coalesce(j.excluded_features, []::varchar[])" if "excluded_features" in job_columns else "null::varchar[]"
    )
    return f"""
create or replace temp table plan_jobs as
with
cs as (
    select target, {stability} as cs_stability from routing_decisions where symbol is null
),
base as (
    select
        j.job_order, j.job_id, j.target, j.symbol, j.route, j.training_type, j.priority::integer as priority,
        j.estimated_samples::bigint as estimated_samples, j.reason, j.cs_state, j.local_state,
        j.needs_cs_ensemble::boolean as needs_cs_ensemble,
        coalesce(f.normalized, []::varchar[]) as families,
        {excluded} as excluded_features,
        case when j.symbol is null then cs.cs_stability end as cs_stability
        {extra_cols}
    from training_jobs as j
    left join family_map as f on j.model_families = f.raw
    left join cs on j.target = cs.target
)
select * from base
order by job_order
"""


def metadata_json_sql(job_columns: set[str]) -> str:
    """A job's `metadata` JSON object from a plan_jobs row (by training type; the CS one with the real sample
    size and the lane's stability)."""
    extra_meta = [(c, f"num_or_str_{c}") for c in OPTIONAL_JOB_METADATA if c in job_columns]
    cs_meta = json_object_sql(
        [("cs_state", "cs_state"), ("sample_size", "estimated_samples"), ("stability", "cs_stability"), *extra_meta]
    )
    blocked_meta = json_object_sql([("cs_state", "cs_state"), ("local_state", "local_state"), *extra_meta])
    symbol_meta = json_object_sql(
        [
            ("cs_state", "cs_state"),
            ("local_state", "local_state"),
            ("needs_cs_ensemble", "needs_cs_ensemble"),
            *extra_meta,
        ]
    )
    return (
        f"case when training_type = 'cross_sectional' then {cs_meta} "
        f"when training_type = 'blocked' then {blocked_meta} else {symbol_meta} end"
    )


def job_json_sql(job_columns: set[str]) -> str:
    """A job's JSON object (reference key order, README "Plan files") from a plan_jobs row. Not stored: it is built once, by the
    query that fetches the jobs' text (`jobs_text_rows`), and for the few jobs the schema check looks at."""
    job_keys = ["job_id", "target", "symbol", "route", "training_type", "model_families", "priority",
                "estimated_samples", "reason", "metadata"]  # fmt: skip
    exprs = {"model_families": "families", "metadata": metadata_json_sql(job_columns)}
    pairs = [(k, exprs.get(k, k)) for k in job_keys]
    if "excluded_features" in job_columns:
        pairs.append(("excluded_features", "excluded_features"))
    return json_object_sql(pairs, raw=frozenset({"metadata"}))


# Keys a routing entry gains while route hysteresis is on (docs/decision-semantics.md, "Hysteresis"): the
# previous state or route, what the decision would have been without hysteresis, the margin a held lane needed,
# and for how many runs the lane has held its state (read back by trainplan.plan.previous at the next refresh).
HYSTERESIS_CS_KEYS = (
    ("held_by_hysteresis", "held_by_hysteresis"),
    ("previous_state", "previous_cs_state"),
    ("state_without_hysteresis", "cs_state_without_hysteresis"),
    ("hysteresis_needed_margin", "num(cs_hysteresis_needed_margin)"),
    ("runs_in_state", "cs_runs_in_state"),
)
HYSTERESIS_SYMBOL_KEYS = (
    ("held_by_hysteresis", "held_by_hysteresis"),
    ("previous_route", "previous_route"),
    ("route_without_hysteresis", "route_without_hysteresis"),
    ("local_state_without_hysteresis", "local_state_without_hysteresis"),
    ("local_hysteresis_needed_margin", "num(local_hysteresis_needed_margin)"),
    ("local_runs_in_state", "local_runs_in_state"),
)


# When a target's cross_sectional entry in routing_plan.json says "route": "DISABLED" (else "ENABLED"); the lanes
# sidecar (trainplan.export.lanes) reads the same condition over routing_decisions.
CS_ENTRY_DISABLED = "route = 'ROUTE_BLOCKED' or cs_state = 'DISALLOWED'"


def plan_routes_sql(decision_columns: set[str], *, markdown: bool = True, hysteresis: bool = False) -> str:
    """The plan_routes table: one routing-plan entry per decision (symbol null: the target's cross_sectional entry; with
    `hysteresis`, the HYSTERESIS_*_KEYS too), and the Markdown table row of a symbol decision when routing_plan.md
    is written (null otherwise: it costs as much as the entry)."""

    def col(name: str, cast: str = "varchar") -> str:
        return name if name in decision_columns else f"null::{cast}"

    cs_entry = json_object_sql(
        [
            ("state", "cs_state"),
            (
                "route",
                f"case when {CS_ENTRY_DISABLED} then 'DISABLED' else 'ENABLED' end",
            ),
            ("reason", "cs_summary"),
            ("stability", col("cs_stability")),
            ("rule", col("rule")),
            ("score", f"num({col('cs_score', 'double')})"),
            ("threshold", f"num({col('cs_threshold', 'double')})"),
            ("margin", f"num({col('cs_margin', 'double')})"),
            ("sample_size", col("cs_sample_size", "bigint")),
            ("leakage_status", col("cs_leakage_status")),
            *(HYSTERESIS_CS_KEYS if hysteresis else ()),
        ]
    )
    symbol_entry = json_object_sql(
        [
            ("route", "route"),
            ("cs_state", "cs_state"),
            ("local_state", "local_state"),
            ("reason", "reasons"),
            ("rule", col("rule")),
            ("local_score", f"num({col('local_score', 'double')})"),
            ("local_threshold", f"num({col('local_threshold', 'double')})"),
            ("local_margin", f"num({col('local_margin', 'double')})"),
            ("local_stability", col("local_stability")),
            ("local_leakage_status", col("local_leakage_status")),
            ("local_sample_size", col("local_sample_size", "bigint")),
            *(HYSTERESIS_SYMBOL_KEYS if hysteresis else ()),
        ]
    )

    return f"""
create or replace temp table plan_routes as
with decisions as (
    -- a column, not an expression, goes into md_cell (a macro repeats its argument; CASE stops its reuse)
    select *, left(array_to_string(reasons, '; '), 100) as md_reasons from routing_decisions
),
entries as (
    select
        target, symbol, route, cs_state, cs_summary,
        case when symbol is null then {cs_entry} else {symbol_entry} end as entry_json,
        case when {"symbol is not null" if markdown else "false"} then concat(
            '| ', md_cell(symbol), ' | ', route, ' | ', cs_state, ' | ', local_state, ' | ',
            md_cell(md_reasons), e' |\\n'
        ) end as md_row
    from decisions
)
-- built unsorted (in parallel), then sorted once on these narrow columns: every routing file scans this order
select target, symbol, route, cs_state, cs_summary, entry_json, md_row from entries order by target, symbol nulls first
"""


# ---------------------------------------------------------------- training plan


# The columns the derived views are partitioned by (view folder -> plan_jobs column), fetched with the jobs' text.
VIEW_KEYS = {"by_target": "target", "by_symbol": "symbol", "by_type": "training_type", "by_route": "route"}


def jobs_text_rows(job_json: str, views: list[str]) -> str:
    """Every job in plan order (plan_jobs is stored in job_order and a scan keeps that order): the job's line of
    the master plan (a comma, a newline and the indented JSON object) and the keys of the derived `views`."""
    keys = "".join(f", {key}::varchar as {key}" for key in dict.fromkeys(VIEW_KEYS[view] for view in views))
    return f"select concat(e',\\n    ', {job_json}) as line{keys} from plan_jobs"


def jobs_summary(key: str) -> str:
    """(key, count) in the order each key first appears in the plan (the reference's insertion order)."""
    return f"select {key}::varchar, count(*) from plan_jobs group by {key} order by min(job_order)"


def jobs_yaml_rows(quote: str, metadata_json: str) -> str:
    """One YAML block per job, keys sorted like yaml.dump; strings as JSON literals (valid YAML). concat() with
    literal newlines: one allocation per row, much cheaper than chained || on a million rows."""
    return f"""
select concat(
    '- estimated_samples: ', coalesce(estimated_samples::varchar, 'null'),
    case when excluded_features is null then '' else concat(e'\\n  excluded_features: ', to_json(excluded_features)) end,
    e'\\n  job_id: ', {quote}(job_id),
    e'\\n  metadata: ', {metadata_json},
    e'\\n  model_families: ', to_json(families),
    e'\\n  priority: ', priority,
    e'\\n  reason: ', {quote}(reason),
    e'\\n  route: ', {quote}(route),
    e'\\n  symbol: ', {quote}(symbol),
    e'\\n  target: ', {quote}(target),
    e'\\n  training_type: ', {quote}(training_type),
    e'\\n'
)
from plan_jobs
"""


MD_JOBS_TABLE_HEAD = "| Symbol | Route | Priority | Families | Reason |\n|---|---|---|---|---|\n"


def job_targets() -> str:
    """Per target with jobs (sorted): whether it has a CS job, and its number of symbol jobs."""
    return (
        "select target, count(*) filter (where symbol is null) > 0, count(symbol) from plan_jobs "
        "group by target order by target"
    )


def jobs_markdown_rows() -> str:
    """`## Training Jobs` rows by target: the CS block (followed by the symbol table's head when the target has
    symbol jobs), then one table row per symbol job (README "Plan files")."""
    fams = (
        "case when len(families) > 3 then array_to_string(families[1:3], ', ') || ' (+' || (len(families) - 3)::varchar"
        " || ' more)' else array_to_string(families, ', ') end"
    )
    head = MD_JOBS_TABLE_HEAD.replace("\n", "' || chr(10) || '")
    return f"""
with n_symbol_jobs as (select target, count(symbol) as n from plan_jobs group by target),
cells as (
    -- columns, not expressions, go into md_cell (a macro repeats its argument; CASE stops its reuse)
    select target, symbol, job_id, route, priority, families, reason, md_cut(reason, 80) as reason_cut from plan_jobs
)
select
    j.target,
    case when j.symbol is null then concat(
        e'**Cross-Sectional:**\\n- Job ID: `', md_cell(j.job_id), e'`\\n- Families: ', {fams},
        e'\\n- Priority: ', j.priority, e'\\n- Reason: ', md_cell(j.reason), e'\\n\\n',
        case when n.n > 0 then '{head}' else '' end
    )
    else concat(
        '| ', md_cell(j.symbol), ' | ', j.route, ' | ', j.priority, ' | ', {fams}, ' | ',
        md_cell(j.reason_cut), e' |\\n'
    )
    end
from cells as j
inner join n_symbol_jobs as n on j.target = n.target
order by j.target, j.symbol nulls first
"""


# ---------------------------------------------------------------- routing plan


# The cross_sectional entry of a target without a CS decision row (the reference's "No CS metrics").
NO_CS_JSON = '{"state":"DISALLOWED","route":"DISABLED","reason":"No CS metrics"}'


def route_targets() -> str:
    """Per target (in file order): its CS entry, route, state and summary, and its number of symbol decisions."""
    return """
select
    target,
    any_value(entry_json) filter (where symbol is null),
    any_value(route) filter (where symbol is null),
    any_value(cs_state) filter (where symbol is null),
    any_value(cs_summary) filter (where symbol is null),
    count(symbol)
from plan_routes group by target order by target
"""


def route_target_distribution() -> str:
    return (
        "select target, route, count(*) from plan_routes where symbol is not null "
        "group by target, route order by target, route"
    )


def routes_json_rows() -> str:
    """Symbol entries of routing_plan.json, by target: a comma, a newline, the entry (the writer drops the comma
    of each target's first entry). plan_routes is stored in (target, symbol) order and scanned in it."""
    return (
        "select target, concat(e',\\n        ', to_json(symbol), ': ', entry_json) "
        "from plan_routes where symbol is not null"
    )


def routes_yaml_rows(quote: str) -> str:
    return (
        f"select target, concat('      ', {quote}(symbol), ': ', entry_json, e'\\n') "
        "from plan_routes where symbol is not null"
    )


def routes_markdown_rows() -> str:
    return "select target, md_row from plan_routes where symbol is not null"


def routes_digest() -> str:
    return (
        "select sha256(coalesce(string_agg(md5(coalesce(symbol, '') || chr(0) || target || chr(0) || entry_json), '' "
        "order by target, symbol nulls first), '')) from plan_routes"
    )


# ---------------------------------------------------------------- validation

# Jobs that agree on all of these expressions look the same to the master-plan schema (which constrains types,
# enums and non-empty strings, never the content of a free-form name): one job per class is validated.
JOB_SCHEMA_CLASS = (
    "route",
    "training_type",
    "priority",
    "cs_state",
    "local_state",
    "needs_cs_ensemble is null",
    "symbol is null",
    "coalesce(symbol, 'x') = ''",
    "target is null or target = ''",
    "job_id is null or job_id = ''",
    "reason is null",
    "estimated_samples is null",
    "estimated_samples < 0",
    "len(families)",
    "list_contains(families, '')",
    "excluded_features is null",
    "cs_stability is null",
)


def job_schema_representatives(job_json: str) -> str:
    """The JSON of the first job of each schema class, in plan order."""
    keys = ", ".join(JOB_SCHEMA_CLASS)
    return (
        f"with firsts as (select min(job_order) as job_order from plan_jobs group by {keys}) "
        f"select {job_json} from plan_jobs where job_order in (select job_order from firsts) order by job_order"
    )
