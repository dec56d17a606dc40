"""The routing policy's optional `training:` section: what each job asks a cluster for, per model family.

    training:
      resources:
        default: {cpus: 1, gpus: 0, memory_gb: 0}     # every job (optional; these are the built-in defaults)
        families:                                     # a job asks for the most any of its families asks for
          xgboost: {cpus: 2}
          mlp: {gpus: 1, memory_gb: 4}

dbt does not read this section (its policy validation only allows the top-level key); it is validated here, when
`trainplan train --executor ray` reads the policy: an unknown key, a value that is not a finite number >= 0, or
a section of the wrong shape is a `TrainingPolicyInvalid` naming the file and the key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from trainplan.config.policy import load_policy_document
from trainplan.errors import TrainplanError

RESOURCE_KEYS = ("cpus", "gpus", "memory_gb")


class TrainingPolicyInvalid(TrainplanError):
    """The policy's `training:` section has an unknown key or a value out of range."""


@dataclass(frozen=True)
class JobResources:
    """What one attempt asks a node for: CPUs, GPUs (fractions allowed) and memory in GB (0: not reserved)."""

    cpus: float = 1.0
    gpus: float = 0.0
    memory_gb: float = 0.0

    def describe(self) -> str:
        parts = [f"{self.cpus:g} CPU", f"{self.gpus:g} GPU"]
        if self.memory_gb:
            parts.append(f"{self.memory_gb:g} GB memory")
        return ", ".join(parts)

    def merged(self, other: JobResources) -> JobResources:
        """The larger of each resource."""
        return JobResources(
            max(self.cpus, other.cpus), max(self.gpus, other.gpus), max(self.memory_gb, other.memory_gb)
        )


@dataclass(frozen=True)
class ResourceOverrides:
    """`--cpus-per-job`, `--gpus-per-job`, `--memory-per-job`: set for every job, over the policy."""

    cpus: float | None = None
    gpus: float | None = None
    memory_gb: float | None = None


@dataclass(frozen=True)
class TrainingPolicy:
    default: JobResources = field(default_factory=JobResources)
    families: Mapping[str, JobResources] = field(default_factory=dict)

    def resources_for(self, families: Iterable[str], overrides: ResourceOverrides | None = None) -> JobResources:
        """The default, raised to what each of the job's families asks for, then the command-line overrides."""
        out = self.default
        for family in families:
            extra = self.families.get(family)
            if extra is not None:
                out = out.merged(extra)
        if overrides is not None:
            out = replace(
                out,
                **{k: v for k in RESOURCE_KEYS if (v := getattr(overrides, k)) is not None},
            )
        return out


def _number(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise TrainingPolicyInvalid(f"{path}: key '{key}': expected a finite number >= 0, got {value!r}")
    return float(value)


def _mapping(path: Path, key: str, value: Any, allowed: Iterable[str]) -> Mapping[str, Any]:
    allowed = tuple(allowed)
    if not isinstance(value, Mapping):
        raise TrainingPolicyInvalid(f"{path}: key '{key}': expected a mapping with the keys {', '.join(allowed)}")
    for name in value:
        if name not in allowed:
            raise TrainingPolicyInvalid(
                f"{path}: key '{key}.{name}' is not a known key; allowed keys under '{key}': {', '.join(allowed)}"
            )
    return value


def _resources(path: Path, key: str, value: Any, base: JobResources) -> JobResources:
    doc = _mapping(path, key, value, RESOURCE_KEYS)
    return replace(base, **{k: _number(path, f"{key}.{k}", v) for k, v in doc.items()})


def parse_training_section(path: Path, section: Any) -> TrainingPolicy:
    """The `training:` section of the policy file `path` (None or missing: the built-in defaults)."""
    if section is None:
        return TrainingPolicy()
    doc = _mapping(path, "training", section, ("resources",))
    resources = _mapping(path, "training.resources", doc.get("resources") or {}, ("default", "families"))
    default = _resources(path, "training.resources.default", resources.get("default") or {}, JobResources())
    families_doc = resources.get("families") or {}
    if not isinstance(families_doc, Mapping):
        raise TrainingPolicyInvalid(
            f"{path}: key 'training.resources.families': expected a mapping of model family -> resources"
        )
    families: dict[str, JobResources] = {}
    for name, value in families_doc.items():
        families[str(name)] = _resources(path, f"training.resources.families.{name}", value, JobResources(0, 0, 0))
    return TrainingPolicy(default, families)


def load_training_policy(path: Path) -> TrainingPolicy:
    """Read the policy file and validate its `training:` section."""
    return parse_training_section(path, load_policy_document(path).get("training"))
