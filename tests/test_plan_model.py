"""The typed plan: `Plan` and `Job` built once from a master plan, indexed, immutable, with `obj["key"]` access."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from collections import defaultdict
from typing import Any

import pytest
from trainplan.plan.model import Job, Plan, PlanInvalid, thaw
from trainplan.plan.validate import validate_plan

from tests.conftest import Built
from tests.plan_docs import blocked_job, cs_job, plan_doc, sym_job


@pytest.fixture(scope="module")
def sample_doc(sample_built: Built) -> dict[str, Any]:
    return json.loads(sample_built.master_plan.read_text(encoding="utf-8"))


def _small_doc() -> dict[str, Any]:
    return plan_doc(
        [
            cs_job("t1"),
            sym_job("t1", "AAA", route="ROUTE_BOTH"),
            sym_job("t1", "BBB"),
            sym_job("t2", "AAA", route="ROUTE_EXPERIMENTAL_ONLY"),
            blocked_job("t2", "BBB"),
        ]
    )


def test_the_test_documents_are_valid_plans() -> None:
    assert validate_plan(_small_doc()) == []
    assert validate_plan(plan_doc([])) == []


def test_indexes_group_the_jobs_of_the_sample_plan_in_plan_order(sample_doc: dict[str, Any]) -> None:
    plan = Plan.from_document(sample_doc)
    raw = sample_doc["jobs"]
    assert [j.job_id for j in plan.jobs] == [j["job_id"] for j in raw]
    assert set(plan.by_id) == {j["job_id"] for j in raw}
    for key, index in (
        ("target", plan.by_target),
        ("symbol", plan.by_symbol),
        ("training_type", plan.by_type),
        ("route", plan.by_route),
    ):
        expected: dict[Any, list[str]] = defaultdict(list)
        for job in raw:
            expected[job[key]].append(job["job_id"])
        assert {k: [j.job_id for j in v] for k, v in index.items()} == dict(expected), key
    assert {t: len(v) for t, v in plan.by_type.items()} == sample_doc["summary"]["by_type"]
    assert {r: len(v) for r, v in plan.by_route.items()} == sample_doc["summary"]["by_route"]
    assert plan.targets == tuple(dict.fromkeys(j["target"] for j in raw))
    assert plan.symbols == tuple(dict.fromkeys(j["symbol"] for j in raw if j["symbol"] is not None))
    assert plan.plan_id == sample_doc["metadata"]["plan_id"]


def test_job_attributes_are_typed_and_item_access_matches_the_document(sample_doc: dict[str, Any]) -> None:
    plan = Plan.from_document(sample_doc)
    for order, (job, raw) in enumerate(zip(plan.jobs, sample_doc["jobs"], strict=True)):
        assert isinstance(job.model_families, tuple) and list(job.model_families) == raw["model_families"]
        assert list(job.excluded_features) == raw.get("excluded_features", [])
        assert (job.job_id, job.target, job.symbol) == (raw["job_id"], raw["target"], raw["symbol"])
        assert job.route == raw["route"]
        assert (job.training_type, job.priority, job.order) == (raw["training_type"], raw["priority"], order)
        assert {k: thaw(job[k]) for k in job} == raw
        assert len(job) == len(raw) and "job_id" in job and job.get("no_such_key") is None
        assert thaw(job.metadata) == raw["metadata"]
    assert thaw(plan["metadata"]) == sample_doc["metadata"]
    assert [thaw(j) for j in plan["jobs"]] == sample_doc["jobs"]
    assert plan.get("summary") is plan.summary


def test_plan_and_job_are_immutable_and_independent_of_the_document() -> None:
    doc = _small_doc()
    doc["extra"] = {"notes": ["a"]}
    plan = Plan.from_document(doc)
    job = plan.by_id["cs_t1"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.priority = 9  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.jobs = ()  # type: ignore[misc]
    for mapping in (job, job.metadata, plan, plan.metadata, plan.summary, plan.by_id, plan.by_target, plan["extra"]):
        with pytest.raises(TypeError):
            mapping["x"] = 1  # type: ignore[index]
    assert isinstance(plan.jobs, tuple) and isinstance(plan.by_target["t1"], tuple)
    assert isinstance(plan["extra"]["notes"], tuple)
    before = plan.to_dict()
    doc["jobs"][0]["model_families"].append("catboost")
    doc["jobs"][0]["metadata"]["cs_state"] = "DISALLOWED"
    doc["metadata"]["plan_id"] = "ffffffffffffffff"
    doc["extra"]["notes"].append("b")
    assert plan.to_dict() == before
    assert job.model_families == ("lightgbm", "xgboost")


def test_round_trip_to_dict_gives_the_same_document(sample_doc: dict[str, Any]) -> None:
    plan = Plan.from_document(sample_doc)
    assert json.dumps(plan.to_dict()) == json.dumps(sample_doc)
    again = Plan.from_document(plan.to_dict())
    assert again == plan and again.to_dict() == sample_doc
    assert [j.to_dict() for j in plan.jobs] == sample_doc["jobs"]
    doc = _small_doc() | {"extra": {"notes": ["a"]}}
    assert Plan.from_document(doc).to_dict() == doc


def test_plan_and_job_survive_pickle_and_deepcopy(sample_doc: dict[str, Any]) -> None:
    plan = Plan.from_document(sample_doc)
    restored = pickle.loads(pickle.dumps(plan))
    assert restored == plan and restored.to_dict() == sample_doc
    assert {k: [j.job_id for j in v] for k, v in restored.by_target.items()} == {
        k: [j.job_id for j in v] for k, v in plan.by_target.items()
    }
    for job in plan.jobs:
        back = pickle.loads(pickle.dumps(job))
        assert back == job and back.order == job.order and back.model_families == job.model_families
        assert copy.deepcopy(job) == job


def test_job_equality_and_hash() -> None:
    a = Job.from_document(cs_job("t1"), 0)
    same = Job.from_document(cs_job("t1"), 3)
    other = Job.from_document(cs_job("t1", families=["lightgbm"]), 0)
    assert a == same and hash(a) == hash(same) and len({a, same}) == 1
    assert a != other
    assert a != cs_job("t1")  # a Job is not equal to a plain dict (compare job.to_dict() for that)


def test_runnable_jobs_leave_out_blocked_ones() -> None:
    plan = Plan.from_document(_small_doc())
    blocked = plan.by_id["blocked_t2_BBB"]
    assert not blocked.runnable and not blocked.is_cross_sectional
    assert plan.by_id["cs_t1"].runnable and plan.by_id["cs_t1"].is_cross_sectional
    assert [j.job_id for j in plan.runnable_jobs] == [j.job_id for j in plan.jobs if j.job_id != "blocked_t2_BBB"]


def test_jobs_for_a_pair_are_its_own_job_and_the_cross_sectional_one() -> None:
    plan = Plan.from_document(_small_doc())
    assert {j.job_id for j in plan.jobs_for("t1")} == {"cs_t1", "sym_t1_AAA", "sym_t1_BBB"}
    assert {j.job_id for j in plan.jobs_for("t1", "AAA")} == {"cs_t1", "sym_t1_AAA"}
    assert {j.job_id for j in plan.jobs_for("t2", "AAA")} == {"sym_t2_AAA"}
    assert plan.jobs_for("nope", "AAA") == ()


def test_an_invalid_document_lists_every_problem() -> None:
    doc = _small_doc()
    doc["jobs"].append(copy.deepcopy(doc["jobs"][-1]))  # a duplicate id, and total_jobs and summary now disagree
    doc["jobs"][0]["priority"] = 7  # BOTH gives 3
    doc["jobs"][1]["route"] = "ROUTE_NOWHERE"
    with pytest.raises(PlanInvalid) as info:
        Plan.from_document(doc)
    problems = info.value.problems
    assert problems == validate_plan(doc)
    for text in ("appears more than once", "priority 7", "ROUTE_NOWHERE", "total_jobs"):
        assert any(text in p for p in problems), text
        assert text in str(info.value)


@pytest.mark.parametrize("doc", [[], "plan", {"jobs": []}, {"metadata": {}, "jobs": [{}], "summary": {}}])
def test_a_document_that_is_not_a_plan_is_invalid(doc: Any) -> None:
    with pytest.raises(PlanInvalid) as info:
        Plan.from_document(doc)
    assert info.value.problems


def test_from_json_reports_a_parse_error_as_invalid() -> None:
    with pytest.raises(PlanInvalid, match="not valid JSON"):
        Plan.from_json("{not json")
    assert Plan.from_json(json.dumps(_small_doc())).to_dict() == _small_doc()


def test_a_plan_invalid_raised_with_a_message_lists_it() -> None:
    assert PlanInvalid("bad plan").problems == ["bad plan"]
    err = PlanInvalid.listing("x.json", [f"p{i}" for i in range(60)])
    assert len(err.problems) == 60 and "and 10 more" in str(err) and str(err).startswith("x.json")


def test_unchecked_build_skips_validation_and_repr_is_short() -> None:
    doc = _small_doc()
    doc["jobs"][0]["priority"] = 7
    plan = Plan.from_document(doc, check=False)
    assert plan.jobs[0].priority == 7
    assert repr(plan) == "Plan(plan_id='0123456789abcdef', jobs=5, source=None)"
