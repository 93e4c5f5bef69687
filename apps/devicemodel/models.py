"""Device model (OCPP 2.x) (tenant schema)."""
