"""plan_input_files lists and hashes the raw files a build reads: the *.json and *.parquet files under
targets/<target>/reproducibility (any depth, hidden ones too; a target folder that is a symbolic link is followed),
globals/run_context.json and the rankings CSV, and the policy, each with the SHA-256 of its bytes (tp_file_sha256,
trainplan.warehouse.file_hashes, for the run's files). Checked here against a walk of the run directory in Python."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import yaml
from dbt.adapters.duckdb.plugins import BasePlugin
from trainplan.config.settings import make_settings
from trainplan.warehouse import file_bytes, file_hashes, run_listing
from trainplan.warehouse.dbt_runner import dbt_env, dbt_executable, dbt_paths, failure_message
from trainplan.warehouse.functions import register_functions

from tests.conftest import REPO, SAMPLE_RUN, Built, build

GLOBALS_FILES = ("globals/run_context.json", "globals/target_predictability_rankings.csv")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _walked(run: Path) -> dict[str, str]:
    """What the build must list for the run: relative path -> SHA-256, found without DuckDB."""
    found = {}
    for target in (run / "targets").iterdir():
        repro = target / "reproducibility"
        if not target.is_dir() or not repro.is_dir():
            continue
        for folder, _, names in os.walk(repro):
            for name in names:
                path = Path(folder) / name
                if name.endswith((".json", ".parquet")) and path.is_file():
                    found[path.relative_to(run).as_posix()] = _sha256(path)
    for rel in GLOBALS_FILES:
        if (run / rel).is_file():
            found[rel] = _sha256(run / rel)
    return found


@pytest.fixture(scope="module")
def extra_built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sample run with files the build must hash (a hidden JSON, one named just `.json`, a JSON deep in a
    folder) and files it must leave out (a JSON outside reproducibility/, a text file inside it); its last target
    folder is a symbolic link to the folder, moved out of the run."""
    run = tmp_path_factory.mktemp("input_files") / "run"
    shutil.copytree(SAMPLE_RUN, run)
    targets = [p for p in sorted((run / "targets").iterdir()) if (p / "reproducibility").is_dir()]
    target, linked = targets[0], targets[-1]
    moved = run.parent / "elsewhere" / linked.name
    moved.parent.mkdir()
    linked.rename(moved)
    linked.symlink_to(moved, target_is_directory=True)
    (target / "reproducibility" / ".json").write_text("{}\n", encoding="utf-8")
    (target / "reproducibility" / ".hidden.json").write_text("{}\n", encoding="utf-8")
    (target / "reproducibility" / "deep" / "er").mkdir(parents=True)
    (target / "reproducibility" / "deep" / "er" / "notes.json").write_text('{"a": 1}\n', encoding="utf-8")
    (target / "reproducibility" / "README.txt").write_text("not an input\n", encoding="utf-8")
    (target / "notes.json").write_text("{}\n", encoding="utf-8")
    return build(run, run.parent / "out")


def test_the_run_files_listed_are_those_a_walk_finds_with_their_sha256(extra_built: Built) -> None:
    with extra_built.connect() as con:
        listed = dict(con.execute("select path, sha256 from plan_input_files where input_kind = 'run'").fetchall())
    walked = _walked(extra_built.run_dir)
    assert listed == walked
    target = next(p for p in listed if p.endswith("/.hidden.json")).split("/")[1]
    assert f"targets/{target}/reproducibility/deep/er/notes.json" in listed
    assert f"targets/{target}/notes.json" not in listed
    assert f"targets/{target}/reproducibility/README.txt" not in listed
    assert set(GLOBALS_FILES) <= set(listed)
    assert f"targets/{target}/reproducibility/.json" in listed


def test_a_symlinked_target_folder_is_read_like_the_others(extra_built: Built, sample_built: Built) -> None:
    """The link's target is listed, read and hashed: the plan has the sample's jobs (the files added to the run are
    none a staging model reads)."""
    linked = next(p for p in (extra_built.run_dir / "targets").iterdir() if p.is_symlink())
    with extra_built.connect() as con:
        hashed = [r[0] for r in con.execute("select path from plan_input_files where input_kind = 'run'").fetchall()]
    assert any(path.startswith(f"targets/{linked.name}/reproducibility/") for path in hashed)

    def jobs(built: Built) -> list[dict]:
        return json.loads(built.master_plan.read_text(encoding="utf-8"))["jobs"]

    assert jobs(extra_built) == jobs(sample_built)
    assert any(job["target"] == linked.name for job in jobs(extra_built))


def test_file_sha256_is_the_sha256_of_each_files_bytes(tmp_path: Path) -> None:
    files = {"empty.json": b"", "text.json": b'{"a": 1}\n', "bytes.parquet": bytes(range(256)) * 4096}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [str(tmp_path / name) for name in files] + [None]
    digests = file_hashes.file_sha256(pa.array(paths, pa.string())).to_pylist()
    assert digests == [hashlib.sha256(data).hexdigest() for data in files.values()] + [None]


def test_a_file_that_cannot_be_read_fails_the_query_naming_it(tmp_path: Path) -> None:
    con = duckdb.connect()
    register_functions(con)
    missing = tmp_path / "gone.json"
    with pytest.raises(
        duckdb.Error, match=rf"{re.escape(str(missing))}: cannot be read for its SHA-256 \(No such file"
    ):
        con.execute(f"select {file_hashes.FUNCTION}(?)", [str(missing)]).fetchall()


def test_the_dbt_plugin_registers_the_function_once_for_the_connection_and_its_cursors(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"{}")
    plugin = BasePlugin.create("trainplan.warehouse.dbt_plugin")
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    plugin.configure_connection(con)
    plugin.configure_connection(con)  # a second registration is a no-op, not an error
    cursor = con.cursor()
    got = cursor.execute(f"select {file_hashes.FUNCTION}(?)", [str(tmp_path / "a.json")]).fetchone()
    assert got == (hashlib.sha256(b"{}").hexdigest(),)
    got = cursor.execute(f"select {file_bytes.FUNCTION}(?)", [str(tmp_path / "a.json")]).fetchone()
    assert got == (b"{}",)
    listed = cursor.execute(f"select {run_listing.FUNCTION}(?)", [str(tmp_path)]).fetchone()
    assert listed == ([],)  # tmp_path holds no target folder


def test_a_build_that_cannot_read_a_run_file_fails_in_one_line_naming_it(tmp_path: Path) -> None:
    """DuckDB appends the Python frames of a function that raised ("At:", one line per frame); the refresh's
    message keeps the line that names the file and the reason, without DuckDB's words before it."""
    con = duckdb.connect()
    register_functions(con)
    missing = tmp_path / "targets" / "t" / "reproducibility" / "gone.json"
    with pytest.raises(duckdb.Error) as raised:
        con.execute(f"select {file_hashes.FUNCTION}(?)", [str(missing)]).fetchall()
    assert "At:" in str(raised.value).splitlines()  # what DuckDB gives: frames after the message
    work = tmp_path / "work"
    (work / "target").mkdir(parents=True)
    # dbt's run results hold the error under a header, indented (dbt-duckdb's DbtRuntimeError)
    dbt_message = "Runtime Error in model stg_plan__input_files (models/staging/plan/stg_plan__input_files.sql)\n"
    dbt_message += textwrap.indent(str(raised.value), "  ") + "\n"
    result = {"status": "error", "unique_id": "model.trainplan.stg_plan__input_files", "message": dbt_message}
    (work / "target" / "run_results.json").write_text(json.dumps({"results": [result]}), encoding="utf-8")
    message = failure_message(1, work, log="")
    assert "\n" not in message and "file_hashes.py" not in message
    assert "Python exception occurred while executing the UDF: OSError: " in str(raised.value)  # DuckDB's words
    assert message.endswith(
        f"model stg_plan__input_files: {missing}: cannot be read for its SHA-256 (No such file or directory)"
    )


def plain_dbt(tmp_path: Path, select: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    """Plain `dbt build --select <select>` of the project with env vars set over the sample run's."""
    settings = make_settings(run_dir=SAMPLE_RUN, out_dir=tmp_path, db_path=tmp_path / "db.duckdb")
    env = {**dbt_env(settings, settings.db_path), **env_vars}
    return subprocess.run(
        [dbt_executable(), "build", *dbt_paths(settings.project, settings.dbt_work_dir), "--select", select],
        cwd=settings.project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("suffix", ["/", "//"])
def test_plain_dbt_with_a_run_dir_not_in_its_plain_form_is_an_error(tmp_path: Path, suffix: str) -> None:
    """A run_dir of '/run/' (or with a '//') would give every listed and recorded path a '//': plain dbt fails
    naming the var (the driver always passes a resolved path)."""
    run_dir = str(SAMPLE_RUN) + "/" if suffix == "/" else str(SAMPLE_RUN.parent) + "//" + SAMPLE_RUN.name
    built = plain_dbt(tmp_path, "stg_foxml__run_files", TRAINPLAN_RUN_DIR=run_dir)
    assert built.returncode != 0
    assert f"var run_dir (env TRAINPLAN_RUN_DIR) is '{run_dir}'; expected the run directory's path without a" in (
        built.stdout
    )


@pytest.mark.parametrize("char", ["[", "'", "\\"])
def test_plain_dbt_with_a_run_dir_named_with_glob_syntax_or_a_quote_is_an_error(tmp_path: Path, char: str) -> None:
    """A run_dir var with '[' listed no file (DuckDB's glob read it as a class) and one with a quote failed in SQL:
    plain dbt now fails naming the var, as the driver refuses such a run directory."""
    run_dir = tmp_path / f"g{char}1" / "run"
    shutil.copytree(SAMPLE_RUN, run_dir)
    built = plain_dbt(tmp_path, "stg_foxml__run_files", TRAINPLAN_RUN_DIR=str(run_dir))
    assert built.returncode != 0
    assert f"var run_dir (env TRAINPLAN_RUN_DIR) is {json.dumps(str(run_dir))}, which holds {char}: DuckDB" in (
        built.stdout
    )


def test_plain_dbt_with_a_candidates_file_named_with_a_quote_is_an_error(tmp_path: Path) -> None:
    candidates = tmp_path / "it's" / "routing_candidates.parquet"
    candidates.parent.mkdir()
    shutil.copy(SAMPLE_RUN / "globals" / "routing" / "routing_candidates.parquet", candidates)
    built = plain_dbt(
        tmp_path, "stg_candidates__routing_candidates", TRAINPLAN_RUN_DIR="", TRAINPLAN_CANDIDATES_FILE=str(candidates)
    )
    assert built.returncode != 0
    assert f"var candidates_file (env TRAINPLAN_CANDIDATES_FILE) is {json.dumps(str(candidates))}, which holds '" in (
        built.stdout
    )


# Each source of files under targets/ (_foxml__sources.yml) and the staging model that reads it.
LISTED_SOURCES = {
    "cohort_metrics_json": "stg_foxml__cohort_metrics",
    "cohort_metrics_parquet": "base_foxml__cohort_metrics_parquet_files",
    "cohort_metadata_json": "stg_foxml__cohort_metadata",
    "target_confidences_json": "stg_foxml__target_confidences",
    "importance_snapshots_json": "stg_foxml__importance_snapshots",
    "confirmed_quarantines_json": "stg_foxml__confirmed_quarantines",
    "quarantine_suspects_json": "stg_foxml__quarantine_suspects",
}


def test_each_staging_model_reads_the_files_duckdbs_glob_of_its_source_matches(extra_built: Built) -> None:
    """The models read the listing's paths that match a regex made from their source's glob (macro glob_regex):
    the same files DuckDB's glob of the source finds (no link lies below a target folder of this run)."""
    doc = yaml.safe_load((REPO / "models" / "staging" / "foxml" / "_foxml__sources.yml").read_text(encoding="utf-8"))
    tables = {t["name"]: t["meta"]["external_location"] for t in doc["sources"][0]["tables"]}
    listed = {name for name, location in tables.items() if location.startswith("read_blob('{run_dir}/targets/")}
    assert listed == set(LISTED_SOURCES)
    with extra_built.connect() as con:
        for name, model in LISTED_SOURCES.items():
            pattern = tables[name].removeprefix("read_blob('").removesuffix("')").format(run_dir=extra_built.run_dir)
            globbed = {row[0] for row in con.execute("select file from glob(?)", [pattern]).fetchall()}
            read = {row[0] for row in con.execute(f"select distinct source_file from {model}").fetchall()}
            assert read == globbed and read, name


def test_a_python_function_that_fails_by_a_bug_keeps_duckdbs_words_and_its_class(tmp_path: Path) -> None:
    """Only the errors trainplan's functions raise on purpose (a file that cannot be read or listed: OSError) lose
    DuckDB's words before them; any other exception there is a bug, and the message says which."""
    log = "\n".join(
        [
            "12:00:01  Runtime Error in model stg_foxml__run_files (models/staging/foxml/stg_foxml__run_files.sql)",
            "12:00:01    Invalid Input Error: Python exception occurred while executing the UDF: TypeError: "
            "unsupported operand",
            "",
        ]
    )
    assert failure_message(1, tmp_path, log).endswith(
        "model stg_foxml__run_files: Invalid Input Error: Python exception occurred while executing the UDF: "
        "TypeError: unsupported operand"
    )


def test_a_python_functions_frames_are_cut_from_dbts_console_output_too(tmp_path: Path) -> None:
    """Without run results (dbt stopped before writing them) the reason comes from dbt's console output, where
    DuckDB's Python frames follow the message as well, and DuckDB's words before it go as in the run results."""
    log = "\n".join(
        [
            "12:00:01  Runtime Error in model stg_foxml__run_files (models/staging/foxml/stg_foxml__run_files.sql)",
            "12:00:01    Invalid Input Error: Python exception occurred while executing the UDF: RunListingError: "
            "/run/targets/t: cannot be listed (Permission denied)",
            "12:00:01    At:",
            "12:00:01      /venv/trainplan/warehouse/run_listing.py(45): _scan",
            "",
        ]
    )
    message = failure_message(1, tmp_path, log)
    assert message.endswith("model stg_foxml__run_files: /run/targets/t: cannot be listed (Permission denied)")
