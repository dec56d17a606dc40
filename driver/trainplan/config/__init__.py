"""Settings: where the dbt project, the state folder, the run directory (input), the database, the policy and the
plan root (output) are. Reads options, environment and dbt_project.yml; writes only the state folder's
`last_refresh.json`."""
