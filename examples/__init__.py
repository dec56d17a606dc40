"""Examples: sample run directories (data) and example trainers for `trainplan train`."""
