"""The routing policy is read and validated by dbt itself (macros/routing_policy*.sql): a plain `dbt build` fails on
a bad policy with one line per problem naming the file, the key and what was expected; values reach SQL only as
validated or quoted literals."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from trainplan.config.settings import make_settings
from trainplan.warehouse.dbt_runner import DbtBuildError, dbt_env, dbt_executable, dbt_paths, run_dbt_build

from tests.conftest import REPO

SHIPPED_POLICY = REPO / "CONFIG" / "training_config" / "routing_config.yaml"
REFERENCE_POLICY = REPO / "tests" / "fixtures" / "reference_routing.yaml"
POLICY_MODELS = [
    "stg_policy__settings",
    "stg_policy__entries",
    "stg_policy__thresholds",
    "stg_policy__horizon_patterns",
]


def build_policy(policy: Path, out: Path, models: list[str] = POLICY_MODELS) -> Path:
    """dbt build of the policy models only, and of base_policy__files, the bytes they parse; returns the database.
    Only the data tests whose every parent is built run (cautious): the build starts from an empty database, and
    plan_input_files_hold_the_parsed_policy also reads plan_input_files."""
    settings = make_settings(db_path=out / "db.duckdb", policy_path=policy)
    selected = ["--select", "base_policy__files", *models, "--indirect-selection", "cautious"]
    return run_dbt_build(settings, selected).db_path


def continue_build(policy: Path, db_path: Path, models: list[str]) -> subprocess.CompletedProcess[str]:
    """dbt build of `models` into the existing database `db_path`: the rest of a build whose first models ran in
    it, as when a policy is edited while a build runs."""
    settings = make_settings(db_path=db_path, policy_path=policy)
    return subprocess.run(
        [dbt_executable(), "build", *dbt_paths(settings.project, settings.dbt_work_dir), "--select", *models],
        cwd=settings.project,
        env=dbt_env(settings, db_path),
        capture_output=True,
        text=True,
        check=False,
    )


def write_policy(path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    doc = yaml.safe_load(SHIPPED_POLICY.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _many_errors(doc: dict[str, Any]) -> None:
    """One policy with many independent problems: the build reports every one of them."""
    r = doc["routing"]
    doc["extra"] = 1
    r["bogus_key"] = 1
    r["experimental"]["max_fraction"] = 0.1
    r["experimental"]["max_fraction_symbols_per_target"] = 1.5
    r["experimental"]["min_score"] = True
    r["cross_sectional"]["min_score"]["clasification"] = 0.5
    r["cross_sectional"]["min_score"]["regression"]["short"] = "high"
    del r["cross_sectional"]["strong_score"]
    r["symbol"]["strong_score"]["regression"]["shrt"] = 0.1
    r["dev_mode"] = "yes"
    r["min_sample_size"]["symbol"] = 1000.5
    r["both_strong_behavior"] = "ROUTE_BOHT"
    r["semantics"] = "foxML"
    r["stability_allowlist"]["symbol"] = ["STABLE", "STABLE'); drop table x; --"]
    r["model_families"] = ["lightgbm", "x'); drop table y; --"]
    r["stability_classification"] = 5
    r["dump_plan_as"] = "JSON"
    r["training_plan_files"] = ["YAML", "BY_SYMBOLS"]
    r["horizon_patterns"] = [{"regex": r"\d+m", "multiplier": 1}, {"regex": r"(\d+)h", "multiplier": 0}]
    r["hysteresis"] = {"enabled": True, "band": {"symbol": {"classification": -0.01}}}


@pytest.fixture(scope="module")
def many_errors(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("bad_policy")
    policy = write_policy(tmp / "bad.yaml", _many_errors)
    with pytest.raises(DbtBuildError) as info:
        build_policy(policy, tmp, ["stg_policy__settings"])
    assert not (tmp / "db.duckdb").exists(), "a failed build must not leave a database behind"
    return policy, str(info.value)


ERRORS = {
    "top-level unknown key": "key 'extra' is not a known key; allowed top-level keys: routing, training",
    "unknown key": "key 'routing.bogus_key' is not a known key; allowed keys under 'routing': semantics, score_stage, "
    "dev_mode,",
    "unknown nested key": "key 'routing.experimental.max_fraction' is not a known key; allowed keys under "
    "'routing.experimental': min_score, allowed_stabilities, max_fraction_symbols_per_target",
    "number out of range": "key 'routing.experimental.max_fraction_symbols_per_target': expected a number in [0, 1], "
    "got 1.5",
    "threshold of the wrong type": "key 'routing.experimental.min_score': expected a number, or a mapping "
    "{classification: number, multiclass: number, regression: number or {default, short, medium, long, very_long: "
    "number}}, got true",
    "unknown threshold key": "key 'routing.cross_sectional.min_score.clasification' is not a known key; allowed keys "
    "under 'routing.cross_sectional.min_score': classification, multiclass, regression",
    "tier threshold not a number": "key 'routing.cross_sectional.min_score.regression.short': expected a number, "
    "got 'high'",
    "missing required key": "key 'routing.cross_sectional.strong_score' is required (a number, or a mapping",
    "unknown tier": "key 'routing.symbol.strong_score.regression.shrt' is not a known key; allowed keys under "
    "'routing.symbol.strong_score.regression': default, short, medium, long, very_long",
    "not a boolean": "key 'routing.dev_mode': expected a boolean (true or false), got 'yes'",
    "not a whole number": "key 'routing.min_sample_size.symbol': expected a whole number >= 0, got 1000.5",
    "invalid both_strong_behavior": "key 'routing.both_strong_behavior': 'ROUTE_BOHT' is not allowed; allowed values: "
    "ROUTE_BOTH, PREFER_CS, PREFER_SYMBOL",
    "invalid semantics": "key 'routing.semantics': 'foxML' is not allowed; allowed values: strict, foxml",
    "SQL in an enum list": "key 'routing.stability_allowlist.symbol': item 'STABLE'); drop table x; --' is not "
    "allowed; allowed values: STABLE, DRIFTING, DIVERGED, UNKNOWN",
    "SQL in a name list": "key 'routing.model_families': 'x'); drop table y; --' is not allowed; expected a list of "
    "names made of letters, digits, '_', '-' or '.'",
    "not a mapping": "key 'routing.stability_classification': expected a mapping with the keys stable_overlap_min, "
    "drifting_overlap_min,",
    "not a list": "key 'routing.dump_plan_as': expected a list whose items are among the allowed values: JSON, YAML, "
    "MARKDOWN, got 'JSON'",
    "unknown training plan file": "key 'routing.training_plan_files': item 'BY_SYMBOLS' is not allowed; allowed "
    "values: YAML, MARKDOWN, BY_TARGET, BY_SYMBOL, BY_TYPE, BY_ROUTE",
    "regex without a capture group": "key 'routing.horizon_patterns[0].regex': '\\d+m' has no capture group",
    "multiplier below 1": "key 'routing.horizon_patterns[1].multiplier': expected a whole number >= 1, got 0",
    "negative hysteresis band": "key 'routing.hysteresis.band.symbol.classification': expected a number in [0, inf], "
    "got -0.01",
}


@pytest.mark.parametrize("expected", list(ERRORS.values()), ids=list(ERRORS))
def test_validation_error_names_file_key_and_allowed_values(many_errors: tuple[Path, str], expected: str) -> None:
    policy, message = many_errors
    assert f"routing policy error in {policy}: {expected}" in message


def test_every_problem_is_reported_once(many_errors: tuple[Path, str]) -> None:
    _, message = many_errors
    lines = [line for line in message.splitlines() if "routing policy error in" in line]
    assert len(lines) == len(ERRORS)


def test_policy_that_is_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    policy = tmp_path / "list.yaml"
    policy.write_text("routing: [1, 2]\n")
    with pytest.raises(DbtBuildError) as info:
        build_policy(policy, tmp_path)
    assert (
        f"routing policy error in {policy}: expected valid YAML with a top-level mapping under the key 'routing'"
        in (str(info.value))
    )


def test_reference_policy_loads_unchanged(tmp_path: Path) -> None:
    """The reference's shipped routing.yaml: trainplan's own keys take their defaults."""
    db = build_policy(REFERENCE_POLICY, tmp_path)
    con = duckdb.connect(str(db), read_only=True)
    policy = con.execute(
        "select semantics, score_stage, dev_mode, both_strong_behavior, experimental_max_fraction_symbols_per_target,"
        " experimental_min_score_is_scalar, model_families, stability_top_k, same_day_minutes, training_plan_files"
        " from stg_policy__settings"
    ).fetchone()
    every_file = ["YAML", "MARKDOWN", "BY_TARGET", "BY_SYMBOL", "BY_TYPE", "BY_ROUTE"]  # the reference's file set
    assert policy == (
        "strict", "TARGET_RANKING", True, "ROUTE_BOTH", 0.2, True, ["lightgbm", "xgboost"], 20, 390, every_file
    )  # fmt: skip
    thresholds = dict(
        ((s, lane, level, task, tier), value)
        for s, lane, level, task, tier, value in con.execute(
            "select semantics, lane, level, task_class, horizon_tier, threshold from stg_policy__thresholds"
        ).fetchall()
    )
    assert thresholds["strict", "cross_sectional", "min_score", "regression", "long"] == -1.0
    assert thresholds["strict", "symbol", "strong_score", "classification", "very_long"] == 0.60
    # a plain-number experimental min_score: foxml applies it to R² too, strict uses the lane's regression min_score
    assert thresholds["foxml", "symbol", "experimental", "regression", "short"] == 0.52
    assert thresholds["strict", "symbol", "experimental", "regression", "short"] == 0.05
    assert thresholds["strict", "symbol", "experimental", "classification", "short"] == 0.52
    patterns = con.execute(
        "select regex, multiplier from stg_policy__horizon_patterns order by pattern_order"
    ).fetchall()
    assert patterns == [(r"(\d+)m", 1), (r"(\d+)h", 60), (r"(\d+)d", 1440)]
    entries = dict(con.execute("select policy_key, policy_value from stg_policy__entries").fetchall())
    assert entries["routing.view_policy"] == "auto"
    assert entries["routing.stability_allowlist.symbol"] == "[STABLE, UNKNOWN]"


def test_thresholds_and_quoted_values(tmp_path: Path) -> None:
    """strict reads a `multiclass` threshold (foxml does not); a mapping experimental threshold resolves like the
    others; a quote in the policy path and in a free-text value (a regex) is kept verbatim, never executed; the
    file lists may be empty or name a subset."""
    folder = tmp_path / "it's here"
    folder.mkdir()
    regex = r"(\d+)m(?:')?"

    def edit(doc: dict[str, Any]) -> None:
        doc["routing"]["symbol"]["min_score"]["multiclass"] = 0.40
        doc["routing"]["experimental"]["min_score"] = {"classification": 0.51, "regression": {"default": -0.4}}
        doc["routing"]["horizon_patterns"][0]["regex"] = regex
        doc["routing"]["dump_plan_as"] = []  # no routing plan file
        doc["routing"]["training_plan_files"] = ["BY_ROUTE"]

    policy = write_policy(folder / "pol'icy.yaml", edit)
    con = duckdb.connect(str(build_policy(policy, tmp_path)), read_only=True)
    rows = dict(
        ((s, level, task, tier), value)
        for s, level, task, tier, value in con.execute(
            "select semantics, level, task_class, horizon_tier, threshold from stg_policy__thresholds"
            " where lane = 'symbol'"
        ).fetchall()
    )
    assert rows["strict", "min_score", "multiclass", "short"] == 0.40
    assert rows["foxml", "min_score", "multiclass", "short"] == 0.54
    for semantics in ("strict", "foxml"):
        assert rows[semantics, "experimental", "classification", "long"] == 0.51
        assert rows[semantics, "experimental", "regression", "long"] == -0.4  # no `long` key: the mapping's default
    assert con.execute("select policy_path from stg_policy__settings").fetchone() == (str(policy),)
    assert con.execute("select dump_plan_as, training_plan_files from stg_policy__settings").fetchone() == (
        [],
        ["BY_ROUTE"],
    )
    assert con.execute("select regex from stg_policy__horizon_patterns where pattern_order = 1").fetchone() == (regex,)


def test_a_training_section_is_left_to_the_driver(tmp_path: Path) -> None:
    """dbt allows the top-level `training:` key (resources per family for `train --executor ray`) and does not read
    it: the driver validates it (trainplan.config.training_policy, tests/test_train_ray_options.py)."""

    def edit(doc: dict[str, Any]) -> None:
        doc["training"] = {"resources": {"families": {"xgboost": {"gpus": 1}}}}

    policy = write_policy(tmp_path / "with_training.yaml", edit)
    con = duckdb.connect(str(build_policy(policy, tmp_path, ["stg_policy__settings"])), read_only=True)
    assert con.execute("select policy_path from stg_policy__settings").fetchone() == (str(policy),)


def test_a_policy_path_matching_two_files_fails_the_build(tmp_path: Path) -> None:
    """config_hash is the one policy row of plan_input_files: a glob naming two files (plain dbt's var policy_path)
    fails the build (data test plan_input_files_hold_the_parsed_policy) instead of hashing one of them."""
    for name in ("policy_a.yaml", "policy_b.yaml"):
        (tmp_path / name).write_bytes(SHIPPED_POLICY.read_bytes())
    with pytest.raises(
        DbtBuildError, match=r"holds 2 routing policy files \(policy_a.yaml, policy_b.yaml\); expected exactly one"
    ):
        build_policy(
            tmp_path / "policy_*.yaml",
            tmp_path / "out",
            ["stg_foxml__run_files", "stg_plan__input_files", "plan_input_files"],
        )
    with pytest.raises(
        DbtBuildError,
        match=r"policy_\*\.yaml matched 2 files \(.*policy_a.yaml, .*policy_b.yaml\); "
        "expected exactly one",
    ):
        build_policy(tmp_path / "policy_*.yaml", tmp_path / "out", ["stg_policy__settings"])


def test_every_policy_model_parses_the_bytes_the_build_read_once(tmp_path: Path) -> None:
    """base_policy__files reads the policy once and the policy models parse those bytes; a policy model compiled
    after the file changed (an edit during the build, or a partial build over an older read) fails, naming the
    file, instead of parsing bytes the plan's config_hash does not describe."""
    policy = write_policy(tmp_path / "policy.yaml", lambda doc: doc["routing"].update(semantics="foxml"))
    db_path = build_policy(policy, tmp_path, ["stg_policy__thresholds"])
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("select sha256, policy_path from base_policy__files").fetchone() == (
            hashlib.sha256(policy.read_bytes()).hexdigest(),
            str(policy),
        )
    write_policy(policy, lambda doc: doc["routing"].update(semantics="strict"))
    built = continue_build(policy, db_path, ["stg_policy__settings"])
    assert built.returncode != 0
    assert f"routing policy error in {policy}: the file changed after base_policy__files read it" in built.stdout
    assert "expected base_policy__files built from it first (dbt build --select +stg_policy__settings)" in built.stdout
    rebuilt = continue_build(
        policy,
        db_path,
        [
            "base_policy__files",
            "stg_policy__settings",
            "stg_foxml__run_files",
            "stg_plan__input_files",
            "plan_input_files",
        ],
    )
    assert rebuilt.returncode == 0, rebuilt.stdout
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("select semantics from stg_policy__settings").fetchone() == ("strict",)


def test_a_policy_model_without_the_policy_read_of_its_own_path_fails(tmp_path: Path) -> None:
    """A policy model needs base_policy__files in the database, read from the same policy path."""
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(SHIPPED_POLICY.read_bytes())
    empty = continue_build(policy, tmp_path / "empty.duckdb", ["stg_policy__settings"])
    assert empty.returncode != 0
    assert (
        f"routing policy error: {policy}: base_policy__files (the policy's bytes, read once per build) is not in the "
        "database; expected base_policy__files built from it first" in empty.stdout
    )
    db_path = build_policy(policy, tmp_path, ["stg_policy__settings"])
    other = tmp_path / "other.yaml"
    other.write_bytes(SHIPPED_POLICY.read_bytes())
    built = continue_build(other, db_path, ["stg_policy__settings"])
    assert built.returncode != 0
    assert f"routing policy error: {other}: base_policy__files holds another policy file, {policy}" in built.stdout


def test_a_policy_edited_during_the_build_fails_it(tmp_path: Path) -> None:
    """The plan's config_hash is plan_input_files' hash of the policy: when the file changed after the policy
    models' read, the build fails naming the file, instead of a plan whose hash is not that of its policy."""
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(SHIPPED_POLICY.read_bytes())
    db_path = build_policy(policy, tmp_path, ["stg_policy__settings"])
    policy.write_bytes(SHIPPED_POLICY.read_bytes() + b"\n# edited while the build ran\n")
    built = continue_build(policy, db_path, ["stg_foxml__run_files", "stg_plan__input_files", "plan_input_files"])
    assert built.returncode != 0
    assert f"the routing policy file {policy} is not the file the policy models parsed" in built.stdout
    assert hashlib.sha256(SHIPPED_POLICY.read_bytes()).hexdigest() in built.stdout
    unchanged = continue_build(
        policy, db_path, ["base_policy__files", "stg_foxml__run_files", "stg_plan__input_files", "plan_input_files"]
    )
    assert unchanged.returncode == 0, unchanged.stdout  # the same check passes once both reads see the same bytes


def test_a_policy_that_is_not_utf8_fails_the_build(tmp_path: Path) -> None:
    policy = tmp_path / "latin1.yaml"
    policy.write_bytes(SHIPPED_POLICY.read_bytes() + "# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DbtBuildError, match=f"routing policy error in {policy}: the file is not UTF-8 text"):
        build_policy(policy, tmp_path, ["stg_policy__settings"])


def test_a_policy_path_matching_no_file_fails_the_build(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(DbtBuildError, match=f"routing policy error: file not found: {missing} "):
        build_policy(missing, tmp_path, ["stg_policy__settings"])
