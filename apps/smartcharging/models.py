"""Smart charging and firmware (tenant schema)."""
