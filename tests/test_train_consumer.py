"""The consumer API (`trainplan.train`): the reference consumer's functions, and each of its fallbacks fixed."""

from __future__ import annotations

import copy
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import trainplan.train as api
from trainplan.plan.model import Plan, PlanInvalid
from trainplan.plan.validate import validate_plan
from trainplan.train import PlanNotFound

from tests.conftest import Built
from tests.plan_docs import blocked_job, cs_job, plan_doc, sym_job

TARGETS = ["t1", "t2", "t3"]
SYMBOLS = ["AAA", "BBB", "CCC"]


def _doc() -> dict[str, Any]:
    """t1: a CS job (lightgbm only) and symbol jobs for AAA (own families) and BBB; t2: symbol jobs only (AAA, and
    BBB blocked); t3: no job. The plan-wide families in metadata are lightgbm and xgboost."""
    return plan_doc(
        [
            cs_job("t1", families=["lightgbm"]),
            sym_job("t1", "AAA", route="ROUTE_BOTH", families=["xgboost", "tab_cnn"]),
            sym_job("t1", "BBB"),
            sym_job("t2", "AAA", route="ROUTE_EXPERIMENTAL_ONLY"),
            blocked_job("t2", "BBB"),
        ]
    )


@pytest.fixture()
def plan() -> Plan:
    return Plan.from_document(_doc())


@pytest.fixture(scope="module")
def sample_doc(sample_built: Built) -> dict[str, Any]:
    return json.loads(sample_built.master_plan.read_text(encoding="utf-8"))


def _plan_folder(sample_built: Built, tmp_path: Path) -> Path:
    """A copy of the sample's training_plan folder (master, mirror and views)."""
    dest = tmp_path / "globals" / "training_plan"
    shutil.copytree(sample_built.master_plan.parent, dest)
    return dest


def _ids(jobs: list[Any]) -> list[str]:
    return [j.job_id for j in jobs]


# --- load_training_plan ---------------------------------------------------------------------------------------------


def test_load_gives_a_plan_from_any_of_the_folders_or_the_file(sample_built: Built, sample_doc: dict) -> None:
    root = sample_built.out_dir
    for where in (root, root / "globals", sample_built.master_plan.parent, sample_built.master_plan, str(root)):
        plan = api.load_training_plan(where)
        assert isinstance(plan, Plan)
        assert plan.to_dict() == sample_doc
        assert plan.source is not None and plan.source.name == "master_training_plan.json"


def test_load_of_no_folder_is_none() -> None:
    assert api.load_training_plan(None) is None


def test_load_of_a_folder_without_a_plan_raises_unless_missing_ok(tmp_path: Path) -> None:
    for where in (tmp_path, tmp_path / "does_not_exist"):
        with pytest.raises(PlanNotFound):
            api.load_training_plan(where)
        assert api.load_training_plan(where, missing_ok=True) is None


def test_load_falls_back_to_the_mirror_when_the_master_is_unreadable(
    sample_built: Built, tmp_path: Path, sample_doc: dict, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _plan_folder(sample_built, tmp_path)
    (folder / "master_training_plan.json").write_text('{"metadata": {', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        plan = api.load_training_plan(tmp_path)
    assert plan is not None and plan.source == folder / "training_plan.json"
    assert plan.to_dict() == sample_doc
    assert "master_training_plan.json" in caplog.text
    (folder / "master_training_plan.json").unlink()
    assert api.load_training_plan(folder).source == folder / "training_plan.json"


def test_load_of_an_invalid_master_raises_and_does_not_use_the_mirror(sample_built: Built, tmp_path: Path) -> None:
    folder = _plan_folder(sample_built, tmp_path)
    doc = json.loads((folder / "master_training_plan.json").read_text(encoding="utf-8"))
    doc["jobs"][0]["priority"] = 9
    doc["jobs"].append(copy.deepcopy(doc["jobs"][1]))
    (folder / "master_training_plan.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(PlanInvalid) as info:
        api.load_training_plan(folder)
    assert any("priority 9" in p for p in info.value.problems)
    assert any("appears more than once" in p for p in info.value.problems)
    (folder / "master_training_plan.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(PlanInvalid, match="not of type 'object'"):
        api.load_training_plan(folder)


def test_load_when_neither_file_can_be_read_lists_both(sample_built: Built, tmp_path: Path) -> None:
    folder = _plan_folder(sample_built, tmp_path)
    for name in ("master_training_plan.json", "training_plan.json"):
        (folder / name).write_text("{torn", encoding="utf-8")
    with pytest.raises(PlanInvalid) as info:
        api.load_training_plan(folder)
    assert len(info.value.problems) == 2
    assert "master_training_plan.json" in info.value.problems[0] and "training_plan.json" in info.value.problems[1]


# --- arguments ------------------------------------------------------------------------------------------------------


def test_a_plan_document_is_accepted_and_an_invalid_one_raises(plan: Plan) -> None:
    doc = _doc()
    assert api.filter_targets_by_training_plan(TARGETS, doc) == api.filter_targets_by_training_plan(TARGETS, plan)
    assert _ids(api.get_symbol_jobs(doc)) == _ids(api.get_symbol_jobs(plan))
    assert api.as_plan(doc) == plan and api.as_plan(plan) is plan and api.as_plan(None) is None
    doc["jobs"][0]["route"] = "ROUTE_NOWHERE"
    with pytest.raises(PlanInvalid, match="ROUTE_NOWHERE"):
        api.get_cs_jobs(doc)
    with pytest.raises(TypeError):
        api.as_plan([1, 2])  # type: ignore[arg-type]


# --- filter_targets_by_training_plan --------------------------------------------------------------------------------


def test_filter_targets_keeps_targets_with_a_job_of_the_type_in_the_given_order(plan: Plan) -> None:
    assert api.filter_targets_by_training_plan(["t3", "t2", "t1"], plan) == ["t1"]
    assert api.filter_targets_by_training_plan(["t3", "t2", "t1"], plan, "symbol_specific") == ["t2", "t1"]
    assert api.filter_targets_by_training_plan(["t2"], plan, "blocked") == ["t2"]
    assert api.filter_targets_by_training_plan([], plan) == []


def test_filter_targets_of_a_plan_without_cs_jobs_keeps_none() -> None:
    # the reference kept every target when no job matched the type
    no_cs = plan_doc([sym_job("t1", "AAA"), sym_job("t2", "BBB")])
    assert api.filter_targets_by_training_plan(TARGETS, no_cs) == []
    assert api.filter_targets_by_training_plan(TARGETS, no_cs, "symbol_specific") == ["t1", "t2"]


def test_filter_targets_of_a_plan_with_zero_jobs_keeps_none(caplog: pytest.LogCaptureFixture) -> None:
    # the reference raised, or kept every target in dev mode
    with caplog.at_level(logging.WARNING):
        assert api.filter_targets_by_training_plan(TARGETS, plan_doc([])) == []
    assert "none kept" in caplog.text


def test_filter_targets_without_a_plan_keeps_all_and_checks_its_arguments(plan: Plan) -> None:
    assert api.filter_targets_by_training_plan(TARGETS, None) == TARGETS
    with pytest.raises(ValueError, match="unknown training_type 'cs'"):
        api.filter_targets_by_training_plan(TARGETS, plan, "cs")
    with pytest.raises(TypeError):
        api.filter_targets_by_training_plan("t1", plan)


# --- filter_symbols_by_training_plan --------------------------------------------------------------------------------


def test_filter_symbols_keeps_symbols_with_a_symbol_job_for_the_target(plan: Plan) -> None:
    assert api.filter_symbols_by_training_plan("t1", ["CCC", "BBB", "AAA"], plan) == ["BBB", "AAA"]
    assert api.filter_symbols_by_training_plan("t2", SYMBOLS, plan) == ["AAA"]  # BBB is blocked


def test_filter_symbols_of_a_target_without_symbol_jobs_keeps_none(plan: Plan) -> None:
    # the reference returned every symbol
    only_cs = plan_doc([cs_job("t1")])
    assert api.filter_symbols_by_training_plan("t1", SYMBOLS, only_cs) == []
    assert api.filter_symbols_by_training_plan("t3", SYMBOLS, plan) == []


def test_filter_symbols_without_a_plan_keeps_all_and_checks_its_arguments(plan: Plan) -> None:
    assert api.filter_symbols_by_training_plan("t1", SYMBOLS, None) == SYMBOLS
    with pytest.raises(TypeError):
        api.filter_symbols_by_training_plan(None, SYMBOLS, plan)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        api.filter_symbols_by_training_plan("t1", "AAA", plan)


# --- getters --------------------------------------------------------------------------------------------------------


def test_jobs_for_a_target_and_symbol(plan: Plan) -> None:
    assert _ids(api.get_training_jobs_for_target_symbol(plan, "t1")) == ["cs_t1"]
    assert _ids(api.get_training_jobs_for_target_symbol(plan, "t1", "AAA")) == ["sym_t1_AAA"]
    assert _ids(api.get_training_jobs_for_target_symbol(plan, "t2", "BBB")) == ["blocked_t2_BBB"]
    assert api.get_training_jobs_for_target_symbol(plan, "t2") == []
    assert api.get_training_jobs_for_target_symbol(plan, "t3", "AAA") == []
    assert api.get_training_jobs_for_target_symbol(None, "t1") == []


def test_jobs_by_type_target_and_symbol_on_the_sample_plan(sample_doc: dict) -> None:
    plan = Plan.from_document(sample_doc)
    raw = sample_doc["jobs"]
    assert _ids(api.get_cs_jobs(plan)) == [j["job_id"] for j in raw if j["training_type"] == "cross_sectional"]
    assert _ids(api.get_symbol_jobs(plan)) == [j["job_id"] for j in raw if j["training_type"] == "symbol_specific"]
    assert len(api.get_cs_jobs(plan)) == sample_doc["summary"]["total_cs_jobs"]
    for target in {j["target"] for j in raw}:
        assert _ids(api.get_jobs_for_target(plan, target)) == [j["job_id"] for j in raw if j["target"] == target]
    for symbol in {j["symbol"] for j in raw}:
        assert _ids(api.get_jobs_for_symbol(plan, symbol)) == [j["job_id"] for j in raw if j["symbol"] == symbol]
    for getter in (api.get_cs_jobs, api.get_symbol_jobs):
        assert getter(None) == []
    assert api.get_jobs_for_target(None, "t1") == [] and api.get_jobs_for_symbol(None, "AAA") == []
    assert api.get_jobs_for_target(plan, "no_such_target") == []


def test_model_families_are_the_jobs_own(plan: Plan) -> None:
    assert plan.metadata["model_families"] == ("lightgbm", "xgboost")
    assert api.get_model_families_for_job(plan, "t1") == ["lightgbm"]
    assert api.get_model_families_for_job(plan, "t1", training_type="cross_sectional") == ["lightgbm"]
    assert api.get_model_families_for_job(plan, "t1", "AAA") == ["xgboost", "tab_cnn"]
    assert api.get_model_families_for_job(plan, "t1", "BBB") == ["lightgbm", "xgboost"]
    families = api.get_model_families_for_job(plan, "t1", "AAA")
    assert families is not None
    families.append("mutated")
    assert plan.by_id["sym_t1_AAA"].model_families == ("xgboost", "tab_cnn")


def test_model_families_without_a_job_are_none_not_the_plan_wide_list(plan: Plan) -> None:
    # the reference fell back to metadata.model_families for any target, with a job or not
    assert api.get_model_families_for_job(plan, "t3") is None
    assert api.get_model_families_for_job(plan, "t2") is None
    assert api.get_model_families_for_job(plan, "t1", "CCC") is None
    assert api.get_model_families_for_job(plan, "t1", "AAA", "cross_sectional") is None
    assert api.get_model_families_for_job(plan, "t2", "BBB") == []  # the blocked job's own (empty) list
    assert api.get_model_families_for_job(None, "t1") is None
    with pytest.raises(ValueError):
        api.get_model_families_for_job(plan, "t1", training_type="CS")


def test_should_train_needs_a_runnable_job(plan: Plan) -> None:
    assert api.should_train_target_symbol(plan, "t1")
    assert api.should_train_target_symbol(plan, "t1", "AAA")
    assert api.should_train_target_symbol(plan, "t1", "AAA", "symbol_specific")
    assert not api.should_train_target_symbol(plan, "t1", "AAA", "cross_sectional")
    assert not api.should_train_target_symbol(plan, "t2")  # no CS job
    assert not api.should_train_target_symbol(plan, "t2", "BBB")  # blocked: the reference said True
    assert not api.should_train_target_symbol(plan, "t1", "CCC")
    assert not api.should_train_target_symbol(plan, "t3")
    assert api.should_train_target_symbol(None, "t3", "CCC")
    with pytest.raises(ValueError):
        api.should_train_target_symbol(plan, "t1", None, "symbol")


# --- apply_training_plan_filter -------------------------------------------------------------------------------------


def test_apply_filter_selects_targets_and_the_symbols_to_train(plan: Plan) -> None:
    selection = api.apply_training_plan_filter(TARGETS, SYMBOLS, plan)
    targets, symbols_by_target = selection
    assert targets == ["t1", "t2"]  # t2 has no CS job, but a symbol job: the reference dropped it
    assert symbols_by_target == {"t1": ["AAA", "BBB"], "t2": ["AAA"]}
    assert selection.cs_targets == ["t1"]


def test_apply_filter_of_a_plan_without_cs_jobs_trains_no_cs_model_and_keeps_symbol_targets() -> None:
    no_cs = plan_doc([sym_job("t2", "CCC"), sym_job("t3", "AAA")])
    selection = api.apply_training_plan_filter(TARGETS, SYMBOLS, no_cs)
    assert (selection.targets, selection.symbols_by_target, selection.cs_targets) == (
        ["t2", "t3"],
        {"t2": ["CCC"], "t3": ["AAA"]},
        [],
    )
    assert tuple(api.apply_training_plan_filter(TARGETS, SYMBOLS, plan_doc([]))) == ([], {})


def test_apply_filter_switches(plan: Plan) -> None:
    no_symbol_plan = api.apply_training_plan_filter(TARGETS, SYMBOLS, plan, use_symbol_plan=False)
    assert no_symbol_plan.targets == TARGETS
    assert no_symbol_plan.symbols_by_target == {t: SYMBOLS for t in TARGETS}
    assert no_symbol_plan.cs_targets == ["t1"]
    no_cs_plan = api.apply_training_plan_filter(TARGETS, SYMBOLS, plan, use_cs_plan=False)
    assert no_cs_plan.targets == no_cs_plan.cs_targets == TARGETS
    assert no_cs_plan.symbols_by_target == {"t1": ["AAA", "BBB"], "t2": ["AAA"], "t3": []}
    neither = api.apply_training_plan_filter(TARGETS, SYMBOLS, plan, use_cs_plan=False, use_symbol_plan=False)
    assert tuple(neither) == (TARGETS, {t: SYMBOLS for t in TARGETS})


def test_apply_filter_without_a_plan_keeps_everything_and_a_missing_folder_raises(tmp_path: Path) -> None:
    selection = api.apply_training_plan_filter(TARGETS, SYMBOLS, None)
    assert tuple(selection) == (TARGETS, {t: SYMBOLS for t in TARGETS}) and selection.cs_targets == TARGETS
    with pytest.raises(PlanNotFound):
        api.apply_training_plan_filter(TARGETS, SYMBOLS, tmp_path)
    with pytest.raises(TypeError):
        api.apply_training_plan_filter("t1", SYMBOLS, None)


def test_apply_filter_warns_about_jobs_outside_the_given_lists(plan: Plan, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        api.apply_training_plan_filter(["t1"], ["AAA"], plan)
    assert "will not train" in caplog.text and "sym_t1_BBB" in caplog.text and "sym_t2_AAA" in caplog.text


def test_apply_filter_on_the_sample_plan_matches_its_jobs(sample_built: Built, sample_doc: dict) -> None:
    raw = sample_doc["jobs"]
    targets = [*sorted({j["target"] for j in raw}), "not_planned"]
    symbols = [*sorted({j["symbol"] for j in raw if j["symbol"]}), "ZZZZ"]
    from_folder = api.apply_training_plan_filter(targets, symbols, sample_built.out_dir)
    from_plan = api.apply_training_plan_filter(targets, symbols, Plan.from_document(sample_doc))
    assert from_folder == from_plan
    symbol_jobs = {(j["target"], j["symbol"]) for j in raw if j["training_type"] == "symbol_specific"}
    cs_jobs = {j["target"] for j in raw if j["training_type"] == "cross_sectional"}
    assert from_plan.targets == [t for t in targets if t in cs_jobs or any(t == jt for jt, _ in symbol_jobs)]
    assert from_plan.cs_targets == [t for t in targets if t in cs_jobs]
    for target in from_plan.targets:
        assert from_plan.symbols_by_target[target] == [s for s in symbols if (target, s) in symbol_jobs]
    trained = {(t, s) for t, ss in from_plan.symbols_by_target.items() for s in ss}
    assert trained == symbol_jobs  # every symbol job, and only those, reaches training


# --- validate, summary, compare -------------------------------------------------------------------------------------


def test_validate_uses_the_schema_and_the_semantic_checks(sample_built: Built, sample_doc: dict) -> None:
    assert api.validate_training_plan(sample_doc) == (True, [])
    assert api.validate_training_plan(Plan.from_document(sample_doc)) == (True, [])
    bad = copy.deepcopy(sample_doc)
    bad["jobs"][0]["priority"] = 9
    bad["jobs"].append(copy.deepcopy(bad["jobs"][1]))
    del bad["metadata"]["plan_id"]
    ok, problems = api.validate_training_plan(bad)
    assert not ok and problems == validate_plan(bad)
    for text in ("priority 9", "appears more than once", "plan_id", "total_jobs"):
        assert any(text in p for p in problems), text
    assert api.validate_training_plan(None) == (False, ["no training plan"])


def test_validate_against_the_routing_plan(sample_built: Built, sample_doc: dict) -> None:
    routing_file = sample_built.master_plan.parent.parent / "routing_plan" / "routing_plan.json"
    routing = json.loads(routing_file.read_text(encoding="utf-8"))
    assert api.validate_training_plan(sample_doc, routing) == (True, [])
    job = next(j for j in sample_doc["jobs"] if j["training_type"] == "symbol_specific")
    routing["targets"][job["target"]]["symbols"][job["symbol"]]["route"] = "ROUTE_BLOCKED"
    ok, problems = api.validate_training_plan(sample_doc, routing)
    assert not ok and any(job["job_id"] in p and "ROUTE_BLOCKED" in p for p in problems)


def test_summary_counts_the_jobs(sample_doc: dict, plan: Plan) -> None:
    summary = api.get_training_plan_summary(sample_doc)
    stored = sample_doc["summary"]
    assert summary["total_jobs"] == len(sample_doc["jobs"]) == sample_doc["metadata"]["total_jobs"]
    assert (summary["cs_jobs"], summary["symbol_jobs"], summary["blocked_jobs"]) == (
        stored["total_cs_jobs"],
        stored["total_symbol_jobs"],
        stored["total_blocked"],
    )
    assert (summary["by_route"], summary["by_type"], summary["by_priority"]) == (
        stored["by_route"],
        stored["by_type"],
        stored["by_priority"],
    )
    meta = sample_doc["metadata"]
    assert (summary["generated_at"], summary["run_id"], summary["plan_id"]) == (
        meta["generated_at"],
        meta["run_id"],
        meta["plan_id"],
    )
    small = api.get_training_plan_summary(plan)
    assert (small["total_jobs"], small["cs_jobs"], small["symbol_jobs"], small["blocked_jobs"]) == (5, 1, 3, 1)
    assert list(small["by_priority"]) == ["3", "2", "1", "0"]


def test_summary_of_no_plan_is_zeros() -> None:
    summary = api.get_training_plan_summary(None)
    assert summary["total_jobs"] == summary["cs_jobs"] == summary["symbol_jobs"] == 0
    assert summary["by_route"] == {} and summary["generated_at"] is None and summary["run_id"] is None


def test_compare_lists_added_removed_and_changed_jobs(sample_built: Built, tmp_path: Path, sample_doc: dict) -> None:
    same = api.compare_training_plans(sample_built.out_dir, sample_doc)
    assert same["added_jobs"] == same["removed_jobs"] == same["changed_jobs"] == []
    assert same["common_jobs"] == same["plan1_total"] == same["plan2_total"] == len(sample_doc["jobs"])
    other = _doc()
    other["jobs"] = [j for j in other["jobs"] if j["job_id"] != "sym_t1_BBB"]
    other["jobs"].append(sym_job("t3", "CCC"))
    next(j for j in other["jobs"] if j["job_id"] == "cs_t1")["model_families"] = ["lightgbm", "xgboost"]
    next(j for j in other["jobs"] if j["job_id"] == "sym_t1_AAA")["reason"] = "new reason"
    other = plan_doc(other["jobs"])
    result = api.compare_training_plans(_doc(), other)
    assert result["added_jobs"] == ["sym_t3_CCC"]
    assert result["removed_jobs"] == ["sym_t1_BBB"]
    assert result["changed_jobs"] == ["cs_t1", "sym_t1_AAA"]
    assert result["changed_fields"] == {"cs_t1": ["model_families"], "sym_t1_AAA": ["reason"]}
    assert (result["plan1_total"], result["plan2_total"], result["common_jobs"]) == (5, 5, 4)
    folder = _plan_folder(sample_built, tmp_path)
    assert api.compare_training_plans(folder, sample_built.master_plan)["common_jobs"] == len(sample_doc["jobs"])


def test_compare_refuses_duplicate_job_ids() -> None:
    # the reference keyed jobs by id, so the second copy silently replaced the first
    jobs = _doc()["jobs"]
    twin = copy.deepcopy(next(j for j in jobs if j["job_id"] == "sym_t1_BBB"))
    twin["model_families"] = ["lightgbm"]
    with_duplicate = plan_doc([*jobs, twin])
    with pytest.raises(PlanInvalid, match="'sym_t1_BBB' appears more than once"):
        api.compare_training_plans(_doc(), with_duplicate)
    with pytest.raises(PlanInvalid, match="appears more than once"):
        api.compare_training_plans(with_duplicate, _doc())
    with pytest.raises(ValueError):
        api.compare_training_plans(None, _doc())


def test_the_package_exports_the_consumer_api() -> None:
    from trainplan.train import load_training_plan
    from trainplan.train.consumer import load_training_plan as consumer_load

    assert load_training_plan is consumer_load
    for name in api.__all__:
        assert getattr(api, name) is not None
