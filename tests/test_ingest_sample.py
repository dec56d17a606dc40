"""refresh on the bundled sample: one candidate per (target, symbol), with the intended cohorts' values."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from trainplan.samples.sample import SampleOptions, generate_sample

from tests.conftest import REPO, SAMPLE_RUN, Built, build
from tests.foxml_files import built_candidates, intended_candidates

POLICY = yaml.safe_load((REPO / "CONFIG/training_config/routing_config.yaml").read_text())
REFERENCE_CANDIDATES = SAMPLE_RUN / "globals" / "routing" / "routing_candidates.parquet"


def test_one_candidate_per_pair_with_the_intended_cohort(sample_con) -> None:
    expected = intended_candidates(SAMPLE_RUN)
    built = built_candidates(sample_con)
    assert set(built) == set(expected)
    for key, cohort in expected.items():
        score, sample_size, cohort_id = built[key]
        assert (score, sample_size, cohort_id) == (cohort.score, cohort.sample_size, cohort.cohort_id), key


def test_latest_cohort_is_chosen_by_time_not_by_name(sample_con) -> None:
    # every CS scope has an older target-ranking cohort whose name sorts last (..._ffffffff)
    names = [
        r[0] for r in sample_con.execute("select cohort_id from routing_candidates where symbol is null").fetchall()
    ]
    assert names and not any(n.endswith("_ffffffff") for n in names)


def test_feature_selection_consensus_is_never_the_score(sample_con) -> None:
    stages = sample_con.execute("select distinct score_stage, metric_name from routing_candidates").fetchall()
    assert {s for s, _ in stages} == {"TARGET_RANKING"}
    assert "Consensus Score" not in {m for _, m in stages}


def test_sample_has_no_rejects_and_reads_every_artifact(sample_con) -> None:
    assert sample_con.execute("select count(*) from rejected_inputs").fetchone()[0] == 0
    counts = {
        name: sample_con.execute(f"select count(*) from {name}").fetchone()[0]
        for name in (
            "stg_foxml__cohort_metrics_parquet",
            "stg_foxml__target_confidences",
            "stg_foxml__quarantine_suspects",
            "stg_foxml__target_rankings",
            "stg_foxml__run_contexts",
        )
    }
    assert counts == {
        "stg_foxml__cohort_metrics_parquet": 6 * (3 + 12 * 2),
        "stg_foxml__target_confidences": 6 * 13,
        "stg_foxml__quarantine_suspects": 3 * 2,
        "stg_foxml__target_rankings": 6,
        "stg_foxml__run_contexts": 1,
    }
    layouts = dict(
        sample_con.execute(
            "select snapshot_layout, count(*) from stg_foxml__importance_snapshots group by all"
        ).fetchall()
    )
    assert layouts["legacy"] == 3 and layouts["hash"] > 0


def test_leakage_status_reflects_flags_and_quarantines(sample_con) -> None:
    rows = {
        (t, s): (status, reason)
        for t, s, status, reason in sample_con.execute(
            "select target, symbol, leakage_status, leakage_reason from routing_candidates"
        ).fetchall()
    }
    # CS flag LEAKAGE_DETECTED in the cohort and in the rankings CSV
    status, reason = rows[("ret_same_day_close", None)]
    assert status == "BLOCKED" and "rankings_csv LEAKAGE_DETECTED" in reason and "cohort LEAKAGE_DETECTED" in reason
    # cohort flag OK, but suspects and a confirmed quarantine exist for the scope
    status, reason = rows[("fwd_ret_5m", "AAPL")]
    assert status == "SUSPECT" and "suspects" in reason and "confirmed_quarantine" in reason
    assert rows[("fwd_ret_60m", "MSFT")][0] == "SUSPECT"  # cohort flag SUSPICIOUS
    assert rows[("fwd_ret_60m", "AAPL")][0] == "SAFE"


def test_reference_candidates_file_is_in_the_reference_format() -> None:
    schema = pq.read_schema(REFERENCE_CANDIDATES)
    assert schema.names[:4] == ["target", "symbol", "mode", "score"]
    for name in ("score_ci_low", "score_ci_high", "feature_set_id", "stability_metrics"):
        assert schema.field(name).type == pa.null()
    assert schema.field("failed_model_families").type == pa.list_(pa.null())
    assert schema.field("sample_size").type == pa.int64()


def test_candidates_file_gives_the_same_candidates_as_its_run_dir(sample_con, tmp_path: Path) -> None:
    from trainplan.config.settings import make_settings
    from trainplan.export.refresh import refresh

    settings = make_settings(candidates_file=REFERENCE_CANDIDATES, out_dir=tmp_path, db_path=tmp_path / "c.duckdb")
    result = refresh(settings)
    assert result.n_rejects == 0
    columns = "target, symbol, mode, score, sample_size, task_type, metric_name, model_status"
    query = f"select {columns} from routing_candidates order by target, symbol nulls first"
    import duckdb

    with duckdb.connect(str(result.db_path), read_only=True) as con:
        from_file = con.execute(query).fetchall()
        sources = con.execute("select distinct candidate_source from routing_candidates").fetchall()
    assert from_file == sample_con.execute(query).fetchall()
    assert sources == [("candidates_file",)]
    # the run directory's globals/ sources read no file (the empty run_dir var made them /globals/..., the machine's)
    compiled = settings.dbt_work_dir / "target" / "compiled" / "trainplan" / "models" / "staging" / "foxml"
    for model in ("stg_foxml__run_contexts", "stg_foxml__target_rankings"):
        sql = (compiled / f"{model}.sql").read_text(encoding="utf-8")
        assert "read_blob(cast([] as varchar[]))" in sql and "/globals/" not in sql, model


@pytest.fixture(scope="module")
def odd_names_built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A run in the newer stage=/universe= layout whose names have dots, dashes, unicode and a '/'."""
    root = tmp_path_factory.mktemp("odd")
    run = generate_sample(
        SampleOptions(
            out=root / "run",
            staged_layout=True,
            target_names=("fwd/ret.5m-β", "y_über.0-8", "win\\path_1h"),
            symbol_names=("BRK.B", "RDS-A", "Ünï"),
        ),
        POLICY,
    )
    return build(run, root / "out")


def test_odd_names_and_staged_layout_round_trip(odd_names_built: Built) -> None:
    run = odd_names_built.run_dir
    assert (run / "targets" / "fwd_ret.5m-β").is_dir()
    assert any(
        run.glob("targets/*/reproducibility/stage=TARGET_RANKING/SYMBOL_SPECIFIC/symbol=Ünï/universe=*/cohort=*")
    )
    expected = intended_candidates(run)
    with odd_names_built.connect() as con:
        built = built_candidates(con)
        n_rejects = con.execute("select count(*) from rejected_inputs").fetchone()[0]
        decided = set(con.execute("select target, symbol from routing_decisions").fetchall())
    assert n_rejects == 0
    assert set(built) == set(expected)
    assert ("fwd/ret.5m-β", "Ünï") in built and ("y_über.0-8", "BRK.B") in built
    assert ("win\\path_1h", None) in built and (run / "targets" / "win_path_1h").is_dir()
    for key, cohort in expected.items():
        assert built[key] == (cohort.score, cohort.sample_size, cohort.cohort_id), key
    assert decided == set(built)
