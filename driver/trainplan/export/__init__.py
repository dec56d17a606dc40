"""The export: writes the routing plan and the training plan files from the dbt relations, checked and published
atomically as one set. Reads the DuckDB database; writes `<plan root>/globals/{routing_plan,training_plan}`.
`refresh` = dbt build (warehouse) then export."""
