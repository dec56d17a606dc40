"""Sample inputs: deterministic FoxML run directories (valid and deliberately broken) and the reference's
routing_candidates format; and a synthetic master training plan of any size (`plan.py`, for training tests and
benchmarks). Reads a routing policy; writes a run directory."""
