"""Fleet-scale benchmarks of the OCPP central system (issue 8); see benchmarks/README.md."""
