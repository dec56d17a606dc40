"""What a trainer is given besides its job: where to write, which attempt this is, and a logger."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrainContext:
    """The second argument of a `module:function` trainer: `train(job: Job, context: TrainContext) -> dict`.

    The trainer writes its artifacts (model files, reports) under `artifacts_dir`, which exists and belongs to this
    job alone; it returns a JSON-serialisable dict of metrics. `attempt` counts from 1 (a retry is attempt 2, ...).
    """

    run_id: str
    plan_id: str
    artifacts_dir: Path
    attempt: int
    logger: logging.Logger
