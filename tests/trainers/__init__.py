"""Trainers for the training tests, importable as `tests.trainers.<module>:<function>` from the repository root."""
