"""Sample inputs: deterministic FoxML run directories (valid and deliberately broken) and the reference's
routing_candidates format. Reads a routing policy; writes a run directory."""
