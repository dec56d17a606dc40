"""A routing policy that cannot be trusted is refused before dbt runs, naming file, line, key and what was expected;
dbt's own reason reaches the user; a read-only or full folder is one line, not a traceback."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from trainplan.cli.app import app
from trainplan.config.policy_check import check_policy_file, ordering_warnings
from trainplan.config.settings import make_settings
from trainplan.errors import TrainplanError
from trainplan.warehouse.dbt_runner import DbtBuildError, build_database, building_path, failure_message
from typer.testing import CliRunner

from tests.conftest import REPO, SAMPLE_RUN

TRAINPLAN = str(Path(sys.executable).parent / "trainplan")
SHIPPED = REPO / "CONFIG" / "training_config" / "routing_config.yaml"
REFERENCE = REPO / "tests" / "fixtures" / "reference_routing.yaml"


def _policy(tmp_path: Path, old: str, new: str, name: str = "policy.yaml") -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        ("stable_overlap_min: 0.70", "stable_overlap_min: .nan", "stability_classification.stable_overlap_min", "'.nan' is not a finite number"),
        ("max_std_tau: 0.25", "max_std_tau: .inf", "stability_classification.max_std_tau", "'.inf' is not a finite number"),
        ("classification: 0.58", "classification: -.Inf", "cross_sectional.strong_score.classification", "'-.Inf' is not a finite number"),
        ("max_std_overlap: 0.20", "max_std_overlap: 1.0e+999", "stability_classification.max_std_overlap", "'1.0e+999' is not a finite number"),
        ("  dev_mode: true\n", "  dev_mode: true\n  dev_mode: false\n", "dev_mode", "given twice (first on line"),
        ("  dev_mode: true\n", "  dev_mode: !!python/object:os.system true\n", "dev_mode", "the YAML tag '!!python/object:os.system' is not allowed"),
        ("semantics: strict", "semantics: !custom strict", "semantics", "the YAML tag '!custom' is not allowed"),
    ],
)  # fmt: skip
def test_untrustworthy_yaml_is_refused_naming_file_line_and_key(
    tmp_path: Path, old: str, new: str, key: str, expected: str
) -> None:
    path = _policy(tmp_path, old, new)
    with pytest.raises(TrainplanError) as info:
        check_policy_file(path)
    (line,) = str(info.value).splitlines()
    where = _line_of(path, new.strip().splitlines()[-1])
    assert line.startswith(f"{path}:{where}: key 'routing.{key}': "), line
    assert expected in line and "expected" in line


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        ("((((", "does not compile: missing ), unterminated subpattern at position 3"),
        ("(?<=x)(\\\\d+)q", "does not compile in DuckDB: Invalid Input Error: invalid perl operator: (?<"),
    ],
)
def test_a_horizon_regex_that_does_not_compile_is_refused_with_the_compilers_reason(
    tmp_path: Path, regex: str, expected: str
) -> None:
    path = _policy(
        tmp_path, "  horizon_patterns:\n", f'  horizon_patterns:\n    - {{regex: "{regex}", multiplier: 1}}\n'
    )
    with pytest.raises(TrainplanError) as info:
        check_policy_file(path)
    (line,) = str(info.value).splitlines()
    assert line.startswith(f"{path}:{_line_of(path, 'multiplier: 1}')}: key 'routing.horizon_patterns[0].regex': ")
    assert expected in line


def test_every_problem_is_a_line_of_its_own(tmp_path: Path) -> None:
    path = _policy(tmp_path, "max_std_tau: 0.25", "max_std_tau: .nan\n    max_std_tau: 0.1")
    with pytest.raises(TrainplanError) as info:
        check_policy_file(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert "is not a finite number" in lines[0] and "given twice" in lines[1]


def test_the_shipped_and_reference_policies_pass_without_warnings() -> None:
    assert check_policy_file(SHIPPED) == []
    assert check_policy_file(REFERENCE) == []


def test_orderings_that_leave_a_state_unreachable_are_warned_about_naming_the_keys() -> None:
    routing = {
        "cross_sectional": {"min_score": {"classification": 0.6}, "strong_score": {"classification": 0.55}},
        "symbol": {
            "min_score": {"regression": {"default": -0.3, "long": 0.2}},
            "strong_score": {"regression": {"default": 0.1}},
        },
        "enable_experimental_lane": True,
        "experimental": {"min_score": 0.7, "allowed_stabilities": ["UNKNOWN"]},
        "stability_allowlist": {"cross_sectional": ["STABLE", "UNKNOWN"], "symbol": ["STABLE"]},
        "stability_classification": {"stable_overlap_min": 0.4, "drifting_overlap_min": 0.5},
    }
    warnings = ordering_warnings(routing)
    assert len(warnings) == 4, warnings
    assert "'routing.cross_sectional.min_score' and 'routing.cross_sectional.strong_score'" in warnings[0]
    assert "WEAK_BUT_OK is unreachable" in warnings[0] and "(classification)" in warnings[0]
    assert "'routing.experimental.min_score' and 'routing.cross_sectional.min_score'" in warnings[1]
    assert "EXPERIMENTAL is unreachable" in warnings[1]
    assert "'routing.symbol.min_score' and 'routing.symbol.strong_score'" in warnings[2]
    assert "(regression long)" in warnings[2]
    assert "stable_overlap_min" in warnings[3] and "drifting_overlap_min" in warnings[3]
    # the symbol lane's experimental tier adds UNKNOWN, which its allowlist lacks: reachable, no warning
    assert not any("routing.symbol.min_score' and 'routing.experimental" in w for w in warnings)
    ordered = {**routing, "cross_sectional": {"min_score": 0.5, "strong_score": 0.6}, "symbol": {}}
    ordered["experimental"] = {"min_score": 0.45, "allowed_stabilities": ["UNKNOWN"]}
    ordered["stability_classification"] = {"stable_overlap_min": 0.7, "drifting_overlap_min": 0.5}
    assert ordering_warnings(ordered) == []


def test_refresh_refuses_a_bad_policy_in_one_line_before_dbt_runs(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "stable_overlap_min: 0.70", "stable_overlap_min: .nan")
    db = tmp_path / "db.duckdb"
    proc = subprocess.run(
        [TRAINPLAN, "refresh", "--run-dir", str(SAMPLE_RUN), "--out", str(tmp_path / "out"), "--db", str(db),
         "--policy", str(policy)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: {policy}:") and "stability_classification.stable_overlap_min" in line
    assert "Traceback" not in proc.stderr and not db.exists() and not (tmp_path / "out").exists()


def test_dbt_alone_refuses_non_finite_numbers_and_reports_its_reason(tmp_path: Path) -> None:
    """Plain `dbt build` (no Python check before it) refuses a NaN too; the runner reports dbt's own line."""
    policy = _policy(tmp_path, "stable_overlap_min: 0.70", "stable_overlap_min: .nan")
    settings = make_settings(run_dir=SAMPLE_RUN, db_path=tmp_path / "db.duckdb", policy_path=policy)
    with pytest.raises(DbtBuildError) as info:
        build_database(settings)
    (line,) = str(info.value).splitlines()
    assert line.startswith("dbt build failed (exit 1; the previous plan is unchanged; dbt's log: ")
    assert line.endswith(
        f"routing policy error in {policy}: key 'routing.stability_classification.stable_overlap_min': "
        "expected a finite number, got nan"
    )
    assert not building_path(settings.db_path).exists()


def test_a_dbt_compile_error_reaches_the_user_in_dbts_words(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "  horizon_patterns:\n", '  horizon_patterns:\n    - {regex: "((((", multiplier: 1}\n')
    settings = make_settings(run_dir=SAMPLE_RUN, db_path=tmp_path / "db.duckdb", policy_path=policy)
    with pytest.raises(DbtBuildError) as info:
        build_database(settings)
    (line,) = str(info.value).splitlines()
    assert "model stg_policy__" in line and "missing ), unterminated subpattern at position 3" in line
    assert str(settings.dbt_work_dir) in line  # where dbt's log is: the state folder, not beside the database


def test_failure_message_names_each_failing_test_and_model_once(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    results = [
        {"status": "success", "unique_id": "model.trainplan.ok", "message": "OK"},
        {"status": "fail", "unique_id": "test.trainplan.unique_x.abc", "message": "Got 3 results, configured to fail if != 0"},
        {"status": "error", "unique_id": "model.trainplan.m1", "message": "Runtime Error in model m1 (models/m1.sql)\n  Binder Error: no column y"},
        {"status": "error", "unique_id": "model.trainplan.m2", "message": "Runtime Error in model m2 (models/m2.sql)\n  Binder Error: no column y"},
        {"status": "skipped", "unique_id": "model.trainplan.m3", "message": None},
    ]  # fmt: skip
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    lines = failure_message(1, tmp_path, "ignored").splitlines()
    assert lines[1:] == [
        "test unique_x: failed: Got 3 results, configured to fail if != 0",
        "model m1 (and 1 more): Binder Error: no column y",
    ]
    (target / "run_results.json").unlink()  # no run results (the project did not parse): dbt's console lines
    log = "\x1b[0m09:00:00  Encountered an error:\nParsing Error in file x.yml: bad indentation\n"
    assert failure_message(2, tmp_path, log).endswith("): Parsing Error in file x.yml: bad indentation")
    log = (  # a model that does not compile: dbt's message is under the header, then where it came from
        "\x1b[0m09:00:01  Compilation Error in model stg_x (models/stg_x.sql)\n"
        "  var v: expected auto or json, got 'fast'\n  \n  > in macro m (macros/m.sql)\n"
    )
    assert failure_message(2, tmp_path, log).endswith("): model stg_x: var v: expected auto or json, got 'fast'")


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_refresh_warns_builds_a_temp_named_database_and_survives_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One successful refresh (policy ordering warnings; `--db temp.duckdb`, a name DuckDB treats as reserved;
    dbt's files in the state folder), then a refresh whose export meets a full disk: one line, exit 2, the
    previous plan and database intact."""
    policy = _policy(tmp_path, "stable_tau_min: 0.60", "stable_tau_min: 0.30")
    out, db = tmp_path / "out", tmp_path / "dbs" / "temp.duckdb"
    args = ("refresh", "--run-dir", str(SAMPLE_RUN), "--out", str(out), "--db", str(db), "--policy", str(policy))
    code, stdout, stderr = _invoke(*args)
    assert "plan: " in stdout
    assert code == 0, stderr
    (warning,) = stderr.strip().splitlines()
    assert warning.startswith(f"warning: {policy}: keys 'routing.stability_classification.stable_tau_min'")
    assert sorted(p.name for p in db.parent.iterdir()) == ["temp.duckdb", "temp.duckdb.lock"]  # no target/, logs/
    state = Path(os.environ["TRAINPLAN_STATE_DIR"])
    assert (make_settings(db_path=db).dbt_work_dir / "target" / "run_results.json").is_file()
    assert make_settings(db_path=db).dbt_work_dir.is_relative_to(state)
    master = out / "globals" / "training_plan" / "master_training_plan.json"
    before, db_before = master.read_bytes(), db.stat().st_mtime_ns

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("trainplan.export.refresh.export_plan", full)
    code, _, stderr = _invoke(*args)
    assert code == 2
    (line,) = stderr.strip().splitlines()[-1:]
    assert line == (
        f"error: a file under {out / 'globals'}: No space left on device while refreshing; the previous plan is "
        "unchanged; expected a writable folder with free space"
    )
    assert "Traceback" not in stderr
    assert master.read_bytes() == before and db.stat().st_mtime_ns == db_before
    assert not building_path(db).exists()

    monkeypatch.undo()  # the export works again; now DuckDB's memory limit (env TRAINPLAN_MEMORY_LIMIT) is too low
    monkeypatch.setenv("TRAINPLAN_MEMORY_LIMIT", "1MB")
    code, _, stderr = _invoke(*args)
    assert code == 2 and "Traceback" not in stderr
    # DuckDB runs out as dbt opens the database, with its settings: one reason, so one line, said once (dbt prints
    # it again as its traceback's last line)
    (line,) = stderr.strip().splitlines()
    assert line.startswith("error: dbt build failed (exit 2; the previous plan is unchanged; dbt's log: ")
    assert line.count("Out of Memory Error") == 1 and "): Out of Memory Error: failed to allocate" in line
    assert line.endswith(
        "; the build's DuckDB memory limit is env TRAINPLAN_MEMORY_LIMIT ('1MB'); raise it, e.g. "
        "TRAINPLAN_MEMORY_LIMIT=8GB"
    )
    assert master.read_bytes() == before and db.stat().st_mtime_ns == db_before
    assert not building_path(db).exists()
    assert sorted(p.name for p in db.parent.iterdir()) == ["temp.duckdb", "temp.duckdb.lock"]  # no spill folder left


def test_memory_hint_only_for_duckdb_out_of_memory(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    oom = "Runtime Error in model m (models/m.sql)\n  Out of Memory Error: could not allocate block of size 256 KiB"
    results = [{"status": "error", "unique_id": "model.trainplan.m", "message": oom}]
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    (line,) = failure_message(1, tmp_path, "", None).splitlines()
    assert line.endswith(
        "model m: Out of Memory Error: could not allocate block of size 256 KiB; the build's DuckDB memory limit is "
        "env TRAINPLAN_MEMORY_LIMIT (unset, so profiles.yml's default); raise it, e.g. TRAINPLAN_MEMORY_LIMIT=8GB"
    )
    results[0]["message"] = "Runtime Error in model m (models/m.sql)\n  Binder Error: no column y"
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    assert "TRAINPLAN_MEMORY_LIMIT" not in failure_message(1, tmp_path, "", "2GB")


def test_an_error_dbt_prints_again_as_its_tracebacks_last_line_is_one_reason(tmp_path: Path) -> None:
    log = "\n".join(
        [
            "12:00:00  Encountered an error:",
            "12:00:00  Out of Memory Error: failed to allocate data of size 64.0 KiB",
            '  File "/x/connections.py", line 1, in open',
            "_duckdb.OutOfMemoryException: Out of Memory Error: failed to allocate data of size 64.0 KiB",
            "_duckdb.BinderException: Binder Error: no column y",
        ]
    )
    assert failure_message(2, tmp_path, log, "1MB").splitlines()[1:] == [
        "Out of Memory Error: failed to allocate data of size 64.0 KiB",
        "_duckdb.BinderException: Binder Error: no column y",  # said only there: kept
        "the build's DuckDB memory limit is env TRAINPLAN_MEMORY_LIMIT ('1MB'); raise it, e.g. TRAINPLAN_MEMORY_LIMIT=8GB",
    ]


def test_a_read_only_folder_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock is the first file a refresh writes; a read-only file system there ends in one line (root ignores
    permission bits, so the file system's answer is injected)."""
    real_open = os.open

    def read_only_fs(path: object, flags: int, *args: object) -> int:
        if str(path).endswith(".lock"):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr("trainplan.locking.os.open", read_only_fs)
    out = tmp_path / "out"
    code, _, stderr = _invoke("refresh", "--run-dir", str(SAMPLE_RUN), "--out", str(out), "--db", str(tmp_path / "d"))
    assert code == 2
    (line,) = stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path}/") and ".lock: Read-only file system while refreshing;" in line


@pytest.mark.parametrize("broken", [False, True])
def test_a_sample_that_cannot_be_written_is_one_line(tmp_path: Path, broken: bool) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, stderr = _invoke("sample", "--out", str(blocker / "run"), *(["--broken"] if broken else []))
    assert code == 2
    (line,) = stderr.strip().splitlines()
    assert line.startswith(f"error: {blocker / 'run'}") and "Not a directory while writing the" in line
