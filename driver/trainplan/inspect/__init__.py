"""Inspection: summaries, `explain` of a decision and read-only SQL. Reads the database or a written plan; writes
nothing."""
