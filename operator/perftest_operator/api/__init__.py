"""Spec and status models of PerfTest and PerfRun: parsing, validation, defaults, conditions (pure)."""
