"""Checks of the routing policy file that dbt's validation cannot make, run before a build.

dbt validates keys, types and allowed values (macros/routing_policy_validation.sql), but it sees the document only
after PyYAML has parsed it: a duplicate key has already lost its first value, a `!!python/...` tag fails without
naming itself, and a regex that does not compile fails inside a model. This module reads the YAML node tree
instead (with line numbers) and refuses, each problem one line naming the file, the line, the key and what was
expected:

- a YAML tag other than the plain scalar, list and mapping tags;
- a key given twice in one mapping (YAML keeps the last one silently);
- a number that is not finite (`.nan`, `.inf`, or a literal too large for a double);
- a `horizon_patterns` regex that Python's `re` or DuckDB (which evaluates it in SQL) cannot compile.

It also warns, one line per problem naming the keys, about threshold orderings that leave a lane state or a
stability class unreachable; those are not errors (the policy is still valid).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from trainplan.config.policy import PolicyUnreadable, load_policy_document
from trainplan.errors import TrainplanError

YAML_TAG_PREFIX = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(YAML_TAG_PREFIX + name for name in ("str", "int", "float", "bool", "null", "map", "seq"))
FLOAT_TAG = YAML_TAG_PREFIX + "float"
TASK_CLASSES = ("classification", "multiclass", "regression")
TIERS = ("default", "short", "medium", "long", "very_long")
STABILITY_PAIRS = (("stable_overlap_min", "drifting_overlap_min"), ("stable_tau_min", "drifting_tau_min"))


class PolicyInvalid(TrainplanError):
    """The policy file holds something dbt's validation cannot see or name (tags, duplicates, NaN, bad regex)."""


@dataclass(frozen=True)
class PolicyProblem:
    line: int
    key: str
    message: str

    def describe(self, path: Path) -> str:
        return f"{path}:{self.line}: key '{self.key}': {self.message}"


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(YAML_TAG_PREFIX) if tag.startswith(YAML_TAG_PREFIX) else tag


def _float_value(node: yaml.ScalarNode) -> float:
    return float(yaml.SafeLoader("").construct_yaml_float(node))


def _walk(node: yaml.Node, key: str, seen: set[int]) -> Iterator[PolicyProblem]:
    """Problems of one node and everything under it; `key` is its dotted path (`routing.x[0].regex`)."""
    line = node.start_mark.line + 1
    if node.tag not in ALLOWED_TAGS and node.tag != YAML_TAG_PREFIX + "merge":
        yield PolicyProblem(
            line, key, f"the YAML tag '{_show_tag(node.tag)}' is not allowed; expected a plain value, list or mapping"
        )
        return
    if id(node) in seen:  # an alias of a node already checked
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        if node.tag == FLOAT_TAG and not math.isfinite(_float_value(node)):
            yield PolicyProblem(line, key, f"{node.value!r} is not a finite number; expected a finite number")
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, f"{key}[{i}]", seen)
    elif isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            child = f"{key}.{name}" if key else name
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != YAML_TAG_PREFIX + "merge":
                if name in first:
                    yield PolicyProblem(
                        key_node.start_mark.line + 1,
                        child,
                        f"given twice (first on line {first[name]}); expected each key once (YAML keeps only the last)",
                    )
                first.setdefault(name, key_node.start_mark.line + 1)
            yield from _walk(key_node, child, seen)
            yield from _walk(value_node, child, seen)


def _regex_problem(regex: str) -> str | None:
    """Why `regex` does not compile, in Python's `re` or in DuckDB (where the horizons are matched), or None."""
    try:
        re.compile(regex)
    except re.error as err:
        return f"the regex {regex!r} does not compile: {err}; expected a regular expression with one capture group"
    try:
        duckdb.connect().execute("select regexp_matches('', '(?i)' || ?)", [regex]).fetchall()
    except duckdb.Error as err:
        reason = str(err).splitlines()[0]
        return f"the regex {regex!r} does not compile in DuckDB: {reason}; expected a regular expression (RE2 syntax)"
    return None


def _pattern_problems(routing: dict[str, Any], lines: dict[str, int]) -> Iterator[PolicyProblem]:
    patterns = routing.get("horizon_patterns")
    if not isinstance(patterns, list):
        return
    for i, item in enumerate(patterns):
        regex = item.get("regex") if isinstance(item, dict) else None
        if isinstance(regex, str):
            key = f"routing.horizon_patterns[{i}].regex"
            problem = _regex_problem(regex)
            if problem:
                yield PolicyProblem(lines.get(key, 0), key, problem)


def _key_lines(node: yaml.Node, key: str, out: dict[str, int], seen: set[int] | None = None) -> dict[str, int]:
    """The line of every key path (an alias of a node already visited is not followed again)."""
    seen = set() if seen is None else seen
    out.setdefault(key, node.start_mark.line + 1)
    if id(node) in seen:
        return out
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = f"{key}.{key_node.value}" if key else str(key_node.value)
            out.setdefault(child, key_node.start_mark.line + 1)
            _key_lines(value_node, child, out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _key_lines(item, f"{key}[{i}]", out, seen)
    return out


def _compose(path: Path) -> yaml.Node | None:
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise PolicyUnreadable(f"{path}: cannot read the routing policy ({err}); expected a YAML file") from err


def check_policy_file(path: Path) -> list[str]:
    """Refuse what dbt cannot see (PolicyInvalid, every problem one line); return the ordering warnings."""
    root = _compose(path)
    problems = list(_walk(root, "", set())) if root is not None else []
    if problems:
        raise PolicyInvalid("\n".join(p.describe(path) for p in problems))
    doc = load_policy_document(path)
    routing = doc["routing"]
    problems = list(_pattern_problems(routing, _key_lines(root, "", {}) if root is not None else {}))
    if problems:
        raise PolicyInvalid("\n".join(p.describe(path) for p in problems))
    return [f"{path}: {w}" for w in ordering_warnings(routing)]


# --- orderings -------------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _threshold(value: Any, task_class: str, tier: str) -> float | None:
    """A threshold for one task class and tier, resolved like dbt's `policy_threshold` (strict semantics), when
    the policy gives it explicitly; None when a default or nothing applies."""
    if not isinstance(value, dict):
        return _number(value)
    if task_class in ("classification", "multiclass"):
        return _number(value.get(task_class, value.get("classification")))
    regression = value.get("regression")
    if not isinstance(regression, dict):
        return _number(regression)
    return _number(regression.get(tier, regression.get("default")))


def _first_inversion(
    low: Any, high: Any, task_classes: tuple[str, ...] = TASK_CLASSES
) -> tuple[str, float, float] | None:
    """The first (task class/tier, low, high) where the threshold meant to be lower is above the higher one."""
    for task_class in task_classes:
        for tier in TIERS if task_class == "regression" else ("default",):
            a, b = _threshold(low, task_class, tier), _threshold(high, task_class, tier)
            if a is not None and b is not None and a > b:
                where = f"regression {tier}" if task_class == "regression" else task_class
                return where, a, b
    return None


def ordering_warnings(routing: dict[str, Any]) -> list[str]:
    """Threshold orderings that leave a lane state or a stability class unreachable, one line per problem."""
    out: list[str] = []
    for lane in ("cross_sectional", "symbol"):
        scores = routing.get(lane)
        if not isinstance(scores, dict):
            continue
        found = _first_inversion(scores.get("min_score"), scores.get("strong_score"))
        if found:
            where, low, high = found
            out.append(
                f"keys 'routing.{lane}.min_score' and 'routing.{lane}.strong_score': min_score {low:g} is "
                f"above strong_score {high:g} ({where}); a score that passes min_score is STRONG, so WEAK_BUT_OK "
                "is unreachable there; expected min_score <= strong_score"
            )
        experimental = routing.get("experimental")
        allowlist = routing.get("stability_allowlist")
        if routing.get("enable_experimental_lane") and isinstance(experimental, dict):
            lane_allowed = set(allowlist.get(lane) or []) if isinstance(allowlist, dict) else set()
            exp_allowed = set(experimental.get("allowed_stabilities") or ["DRIFTING", "UNKNOWN"])
            exp_score = experimental.get("min_score", 0.52)
            # a plain number is a classification threshold (strict: regression uses the lane's min_score)
            classes = TASK_CLASSES if isinstance(exp_score, dict) else ("classification", "multiclass")
            found = _first_inversion(exp_score, scores.get("min_score"), classes)
            if found and exp_allowed <= lane_allowed:
                where, low, high = found
                out.append(
                    f"keys 'routing.experimental.min_score' and 'routing.{lane}.min_score': the experimental "
                    f"threshold {low:g} is above the lane's min_score {high:g} ({where}) and "
                    f"experimental.allowed_stabilities adds no stability to stability_allowlist.{lane}, so "
                    "EXPERIMENTAL is unreachable there; expected experimental.min_score < min_score"
                )
    stability = routing.get("stability_classification")
    if isinstance(stability, dict):
        for stable, drifting in STABILITY_PAIRS:
            a, b = _number(stability.get(stable)), _number(stability.get(drifting))
            if a is not None and b is not None and a < b:
                out.append(
                    f"keys 'routing.stability_classification.{stable}' and '.{drifting}': {stable} {a:g} is "
                    f"below {drifting} {b:g}, so no scope can be DRIFTING by this measure without being STABLE; "
                    f"expected {drifting} <= {stable}"
                )
    return out
