"""Training: applies a published plan to training runs (the consumer API, the scheduler, executors and the job
ledger). Reads a pinned plan; writes the job ledger and the trainer's artifacts."""

from trainplan.plan.model import Job, Plan
from trainplan.train.consumer import (
    PlanComparison,
    PlanInvalid,
    PlanNotFound,
    TrainingPlanSummary,
    TrainingSelection,
    apply_training_plan_filter,
    as_plan,
    compare_training_plans,
    filter_symbols_by_training_plan,
    filter_targets_by_training_plan,
    get_cs_jobs,
    get_jobs_for_symbol,
    get_jobs_for_target,
    get_model_families_for_job,
    get_symbol_jobs,
    get_training_jobs_for_target_symbol,
    get_training_plan_summary,
    load_training_plan,
    should_train_target_symbol,
    validate_training_plan,
)
from trainplan.train.context import TrainContext

__all__ = [
    "Job",
    "Plan",
    "PlanComparison",
    "PlanInvalid",
    "PlanNotFound",
    "TrainContext",
    "TrainingPlanSummary",
    "TrainingSelection",
    "apply_training_plan_filter",
    "as_plan",
    "compare_training_plans",
    "filter_symbols_by_training_plan",
    "filter_targets_by_training_plan",
    "get_cs_jobs",
    "get_jobs_for_symbol",
    "get_jobs_for_target",
    "get_model_families_for_job",
    "get_symbol_jobs",
    "get_training_jobs_for_target_symbol",
    "get_training_plan_summary",
    "load_training_plan",
    "should_train_target_symbol",
    "validate_training_plan",
]
