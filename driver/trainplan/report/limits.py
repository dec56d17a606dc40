"""How much the page draws and prints, so that it stays usable at a million pairs. Past a limit a chart
aggregates or samples, and says so on the chart; a table past its limit says how many rows it leaves out."""

from __future__ import annotations

# Route heat map: one cell per (target, symbol) while targets x symbols ≤ HEATMAP_MAX_CELLS and symbols ≤
# HEATMAP_MAX_COLUMNS; beyond that, neighbouring symbols (alphabetical order) share a cell.
HEATMAP_MAX_CELLS = 10_000
HEATMAP_MAX_COLUMNS = 3_000

# Score strip: at most about this many pairs drawn, per target half the nearest to a threshold and half a fixed
# hash sample; every pair still counts in the margin histogram.
STRIP_MAX_POINTS = 4_000

# A pair sits near a boundary when |score - held threshold| ≤ NEAR_BOUNDARY (score units: R², ROC-AUC, accuracy).
NEAR_BOUNDARY = 0.01

# Margin histogram: about this many bins over the margins' range (the bin width is a round number).
MARGIN_BINS = 60

# Stability: scopes drawn one by one up to this many, else counted in bins of STABILITY_BIN on both axes.
STABILITY_MAX_POINTS = 4_000
STABILITY_BIN = 0.05

# Long lists (rejected inputs, changed pairs, non-safe scopes): rows printed at most.
MAX_LIST_ROWS = 1_000

# A table with at most this many rows is shown open; a longer one is folded (the browser's find still reaches it).
OPEN_TABLE_ROWS = 25
