"""Benchmarks (run as modules, e.g. `.venv/bin/python -m bench.export`); they print figures, tests never time."""
