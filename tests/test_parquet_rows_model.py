"""The Python model that reads the cohort metrics.parquet files (models/staging/foxml/base/
base_foxml__cohort_metrics_parquet_rows.py): how a failing read is split until each bad file stands alone, and which
errors are never blamed on a file. The model's whole read is covered by tests/reliability/test_hostile_raw_files.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from tests.conftest import REPO

MODEL = REPO / "models/staging/foxml/base/base_foxml__cohort_metrics_parquet_rows.py"


@pytest.fixture(scope="module")
def rows_model() -> ModuleType:
    spec = importlib.util.spec_from_file_location("parquet_rows_model", MODEL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_failing_read_is_split_until_each_bad_file_is_alone(rows_model: ModuleType) -> None:
    bad = {"f03", "f11", "f12"}
    calls: list[list[str]] = []

    def read(paths: list[str]) -> list[str]:
        calls.append(paths)
        if bad & set(paths):
            raise duckdb.Error(f"Variable-length int over 10 bytes.\nmore about {sorted(bad & set(paths))}")
        return paths

    paths = [f"f{i:02d}" for i in range(16)]
    read_batches, errors = rows_model.read_each(read, paths)
    assert sorted(p for batch in read_batches for p in batch) == sorted(set(paths) - bad)
    assert errors == {p: "Variable-length int over 10 bytes." for p in sorted(bad)}  # the first line only
    assert calls[0] == paths  # one read when nothing fails; split only where a read fails
    assert len(calls) < 2 * len(paths)


def test_a_read_that_succeeds_is_one_call(rows_model: ModuleType) -> None:
    calls: list[list[str]] = []
    batches, errors = rows_model.read_each(lambda paths: calls.append(paths) or len(paths), ["a", "b", "c"])
    assert (batches, errors, calls) == ([3], {}, [["a", "b", "c"]])


@pytest.mark.parametrize(
    "error",
    [
        duckdb.OutOfMemoryException("Out of Memory Error: could not allocate"),
        duckdb.BinderException('Binder Error: Referenced column "x" not found'),
        duckdb.ParserException("Parser Error: syntax error"),
        duckdb.InterruptException("INTERRUPT Error: Interrupted!"),
    ],
)
def test_errors_about_the_query_or_the_machine_are_raised_not_blamed_on_files(
    rows_model: ModuleType, error: duckdb.Error
) -> None:
    def read(paths: list[str]) -> None:
        raise error

    with pytest.raises(type(error)):
        rows_model.read_each(read, ["a", "b"])


@pytest.mark.parametrize(
    ("path", "glob"),
    [("/run/a/metrics.parquet", "/run/a/metrics.parquet"), ("/run/[x]*?/m.parquet", "/run/[[]x][*][?]/m.parquet")],
)
def test_paths_are_read_as_globs_that_match_only_themselves(rows_model: ModuleType, path: str, glob: str) -> None:
    assert rows_model.glob_literal(path) == glob


def test_the_file_list_is_a_sql_list_of_quoted_globs(rows_model: ModuleType) -> None:
    listed = rows_model.files_sql(["/run/it's/[x]/m.parquet", "/run/b.parquet"])
    assert listed == "['/run/it''s/[[]x]/m.parquet', '/run/b.parquet']"
    with duckdb.connect() as con:
        assert con.execute(f"select {listed}").fetchone() == (["/run/it's/[[]x]/m.parquet", "/run/b.parquet"],)


def test_a_file_whose_name_holds_quotes_and_glob_characters_is_read_as_itself(
    rows_model: ModuleType, tmp_path: Path
) -> None:
    odd = tmp_path / "[a]*?" / "it's.parquet"
    odd.parent.mkdir()
    decoy = tmp_path / "ab" / "it's.parquet"  # what "[a]*?" would match as a glob
    decoy.parent.mkdir()
    with duckdb.connect() as con:
        con.execute(f"copy (select 1 as auc) to '{str(odd).replace(chr(39), chr(39) * 2)}' (format parquet)")
        con.execute(f"copy (select 2 as auc) to '{str(decoy).replace(chr(39), chr(39) * 2)}' (format parquet)")
        rows = con.execute(f"select auc from read_parquet({rows_model.files_sql([str(odd)])})").fetchall()
    assert rows == [(1,)]


class Session:
    """The model's connection (dbt-duckdb's cursor) over a real DuckDB connection; with `probe_fails`, on a machine
    where DuckDB cannot write or read the check's parquet file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, probe_fails: bool) -> None:
        self.con, self.probe_fails = con, probe_fails

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        if self.probe_fails and "probe" in sql:
            raise duckdb.IOException('IO Error: Cannot open file "probe.parquet": Read-only file system')
        return self.con.execute(sql, *args)

    def executemany(self, sql: str, rows: list[list[object]]) -> None:
        self.con.executemany(sql, rows)

    def table(self, name: str) -> duckdb.DuckDBPyRelation:
        return self.con.table(name)


class Dbt:
    """dbt's model context: config() and ref() of the files model."""

    def __init__(self, files: duckdb.DuckDBPyRelation) -> None:
        self.files = files

    def config(self, **_: object) -> None:
        return None

    def ref(self, name: str) -> duckdb.DuckDBPyRelation:
        assert name == "base_foxml__cohort_metrics_parquet_files"
        return self.files


@pytest.mark.parametrize("probe_fails", [False, True])
def test_a_bad_file_is_a_reject_only_on_a_machine_that_reads_parquet(
    rows_model: ModuleType, tmp_path: Path, probe_fails: bool
) -> None:
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select 0.61 as auc) to '{good}' (format parquet)")
        bad.write_bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1")  # the magic at both ends, nothing readable
        files = con.sql(
            f"select * from (values ('{good}', true), ('{bad}', true)) as t(source_file, has_parquet_magic)"
        )
        session = Session(con, probe_fails=probe_fails)
        if probe_fails:
            with pytest.raises(
                RuntimeError,
                match=rf"1 metrics.parquet files failed to read \(first: {bad}: .*\), and "
                r"DuckDB cannot read back a parquet file it has just written",
            ):
                rows_model.model(Dbt(files), session)
            return
        rows = rows_model.model(Dbt(files), session).order("source_file").fetchall()
    assert [(r[0], r[1], r[3] is not None) for r in rows] == [(str(bad), None, True), (str(good), 1, False)]
    assert '"auc":0.61' in rows[1][2]


def test_errors_of_the_operating_system_are_raised_not_blamed_on_files(rows_model: ModuleType) -> None:
    for text in rows_model.MACHINE_ERROR_TEXTS:

        def read(paths: list[str], text: str = text) -> None:
            raise duckdb.IOException(f'IO Error: Cannot open file "{paths[0]}": {text}')

        with pytest.raises(duckdb.IOException, match=text):
            rows_model.read_each(read, ["a", "b"])


class FailingSession:
    """A model connection on a machine that fails every read (its error is DuckDB's own IO error)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str) -> None:
        self.statements.append(sql)
        raise duckdb.IOException("IO Error: Cannot open file: Too many open files")


def test_files_are_blamed_only_when_duckdb_reads_a_file_it_has_just_written(rows_model: ModuleType) -> None:
    with duckdb.connect() as con:
        rows_model.check_reads_work(con, {"/r/a.parquet": "x"})  # a machine that reads: the files' fault
    session = FailingSession()
    with pytest.raises(
        RuntimeError,
        match=r"2 metrics.parquet files failed to read \(first: /r/a.parquet: bad\), and DuckDB cannot read back a "
        r"parquet file it has just written, .*probe.parquet \(IO Error: Cannot open file: Too many open files\); "
        r"expected a machine that reads parquet",
    ):
        rows_model.check_reads_work(session, {"/r/b.parquet": "worse", "/r/a.parquet": "bad"})
    assert session.statements and "probe.parquet" in session.statements[0]
