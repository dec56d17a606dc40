"""The Python model that reads the cohort metrics.parquet files (models/staging/foxml/base/
base_foxml__cohort_metrics_parquet_rows.py): how a failing read is split until each bad file stands alone, and which
errors are never blamed on a file. The model's whole read is covered by tests/reliability/test_hostile_raw_files.py."""

from __future__ import annotations

import importlib.util
import re
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
    """The model's connection (dbt-duckdb's cursor) over a real DuckDB connection; with `disk_gone`, on a machine
    whose disk stops answering after the model's reads (the check's second read of a good file fails)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, disk_gone: bool) -> None:
        self.con, self.disk_gone = con, disk_gone
        self.statements: list[str] = []

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        self.statements.append(sql)
        if self.disk_gone and sql.startswith("select count(*) from read_parquet"):
            raise duckdb.IOException('IO Error: Cannot open file "good.parquet": Transport endpoint is not connected')
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


@pytest.mark.parametrize("disk_gone", [False, True])
def test_a_bad_file_is_a_reject_only_while_the_good_files_still_read(
    rows_model: ModuleType, tmp_path: Path, disk_gone: bool
) -> None:
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select 0.61 as auc) to '{good}' (format parquet)")
        bad.write_bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1")  # the magic at both ends, nothing readable
        files = con.sql(
            f"select * from (values ('{good}', true), ('{bad}', true)) as t(source_file, has_parquet_magic)"
        )
        session = Session(con, disk_gone=disk_gone)
        if disk_gone:
            with pytest.raises(
                rows_model.MachineError,
                match=rf"1 metrics.parquet files failed to read \(first: {re.escape(str(bad))}: .*\), and DuckDB can no "
                rf"longer read {re.escape(str(good))}, which it read earlier in this build \(IO Error: .*Transport "
                r"endpoint is not connected\); expected a machine that reads the run's files",
            ):
                rows_model.model(Dbt(files), session)
            return
        rows = rows_model.model(Dbt(files), session).order("source_file").fetchall()
    assert [(r[0], r[1], r[3] is not None) for r in rows] == [(str(bad), None, True), (str(good), 1, False)]
    assert '"auc":0.61' in rows[1][2]
    assert not any("probe" in sql for sql in session.statements)  # a good file was read again, on the run's disk


@pytest.mark.parametrize(
    "text",
    [
        "Too many open files",
        "No space left on device",
        "Cannot allocate memory",
        "Input/output error",
        "Stale file handle",
    ],
)
def test_errors_of_the_operating_system_are_raised_not_blamed_on_files(rows_model: ModuleType, text: str) -> None:
    calls: list[list[str]] = []

    def read(paths: list[str]) -> None:
        calls.append(paths)
        raise duckdb.IOException(f'IO Error: Cannot open file "{paths[0]}": {text}')

    with pytest.raises(
        rows_model.MachineError,
        match=rf"failed with an error of the operating system's \(IO Error: Cannot open file \"a\": {re.escape(text)}\); "
        "expected a machine with file handles",
    ) as raised:
        rows_model.read_each(read, ["a", "b"])
    assert isinstance(raised.value.__cause__, duckdb.IOException)
    assert calls == [["a", "b"]]  # not split: no file is blamed


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


def test_the_check_reads_again_a_file_the_model_read_before_it_blames_others(
    rows_model: ModuleType, tmp_path: Path
) -> None:
    good = tmp_path / "good.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select 0.61 as auc) to '{good}' (format parquet)")
        rows_model.check_reads_work(con, {"/r/a.parquet": "bad"}, str(good))  # still reads: the files' fault
        good.unlink()  # the run's disk went away after the model's reads
        with pytest.raises(
            rows_model.MachineError,
            match=rf"1 metrics.parquet files failed to read \(first: /r/a.parquet: bad\), and DuckDB can no longer "
            rf"read {re.escape(str(good))}, which it read earlier in this build \(IO Error: ",
        ):
            rows_model.check_reads_work(con, {"/r/a.parquet": "bad"}, str(good))
