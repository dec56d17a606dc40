"""The sample generator writes the reference's formats, deterministically."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from trainplan.samples.sample import SampleOptions, generate_sample, sanitize_target_dir, universe_sig

REPO = Path(__file__).resolve().parent.parent
POLICY = yaml.safe_load((REPO / "CONFIG/training_config/routing_config.yaml").read_text())


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    a = generate_sample(SampleOptions(out=tmp_path / "a", targets=3, symbols=4, seed=3), POLICY)
    b = generate_sample(SampleOptions(out=tmp_path / "b", targets=3, symbols=4, seed=3), POLICY)
    assert _tree(a) == _tree(b)


def test_different_seed_changes_scores(tmp_path: Path) -> None:
    a = generate_sample(SampleOptions(out=tmp_path / "a", targets=2, symbols=2, seed=1), POLICY)
    b = generate_sample(SampleOptions(out=tmp_path / "b", targets=2, symbols=2, seed=2), POLICY)
    assert _tree(a) != _tree(b)


def test_bundled_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    fresh = generate_sample(SampleOptions(out=tmp_path / "s"), POLICY)
    assert _tree(fresh) == _tree(REPO / "examples" / "sample_run")


def test_universe_sig_matches_reference_definition() -> None:
    # blake2s over the sorted, de-duplicated, comma-joined symbols, 6-byte digest (docs/input-files.md, Layout)
    import hashlib

    expected = hashlib.blake2s(b"AAPL,GOOGL,MSFT", digest_size=6).hexdigest()
    assert universe_sig(["MSFT", "AAPL", "GOOGL", "AAPL"]) == expected
    assert len(expected) == 12


def test_target_dir_sanitisation() -> None:
    assert sanitize_target_dir("a/b\\c.d") == "a_b_c.d"


def test_layout_and_formats(tmp_path: Path) -> None:
    root = generate_sample(SampleOptions(out=tmp_path / "r", targets=3, symbols=2), POLICY)
    tdir = root / "targets" / "y_will_peak_60m_0.8" / "reproducibility"
    cs_cohorts = sorted((tdir / "CROSS_SECTIONAL").glob("cohort=*"))
    assert cs_cohorts, "cross-sectional cohorts exist"
    stages = set()
    for cohort in cs_cohorts:
        metrics = json.loads((cohort / "metrics.json").read_text())
        row = pq.read_table(cohort / "metrics.parquet").to_pylist()[0]
        assert row == metrics
        stages.add(metrics["stage"])
        meta = json.loads((cohort / "metadata.json").read_text())
        assert meta["cohort_id"] == cohort.name.removeprefix("cohort=")
    assert stages == {"target_ranking", "FEATURE_SELECTION"}
    sym = tdir / "SYMBOL_SPECIFIC" / "symbol=AAPL"
    meta = [json.loads(p.read_text()) for p in sym.glob("cohort=*/metadata.json")]
    assert {m["universe_sig"] for m in meta} == {universe_sig(["AAPL"])}
    snaps = [json.loads(p.read_text()) for p in tdir.glob("feature_importance_snapshots/replicate/*/*.json")]
    assert {s["method"] for s in snaps} == {"multi_model_aggregated", "lightgbm"}
    assert universe_sig(["AAPL"]) in {s["universe_sig"] for s in snaps}
    assert (root / "globals" / "run_context.json").is_file()
    assert (root / "globals" / "target_predictability_rankings.csv").read_text().startswith("rank,target,")
