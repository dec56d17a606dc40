"""The plan's model: file names and layout, routes and their jobs (from seeds/route_rules.csv), the JSON Schema,
loading, validation, diff, view file names and model families. Reads written plan files; writes nothing."""
