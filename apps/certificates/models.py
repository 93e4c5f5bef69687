"""Certificates (tenant schema)."""
