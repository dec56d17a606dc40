"""The plan report: one self-contained HTML page (charts, their numbers as tables, scripts and data inline).

Reads the database's public relations (and int_leakage__evidence when present), the plan's metadata, optionally a
previous plan and the job ledger's relations; writes one HTML file (`report.html`).
"""
