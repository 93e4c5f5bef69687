"""Diagnostics, monitoring and display messages (tenant schema)."""
