"""The plan report: one self-contained HTML page (charts, their numbers as tables, scripts and data inline).

Reads the database's public relations (routing_decisions, routing_candidates, training_jobs, routing_policy,
rejected_inputs), the plan's metadata and optionally a previous plan; writes one HTML file (`report.html`).
"""
