"""Training: applies a published plan to training runs (the consumer API, the scheduler, executors and the job
ledger). Reads a pinned plan; writes the job ledger and the trainer's artifacts."""
