"""Default mappings of department column names to entity attributes, one YAML file per department."""
