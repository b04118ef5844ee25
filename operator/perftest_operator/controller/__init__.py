"""Orchestration between the API edge and the pure parts: PerfTest triggers, PerfRun phases (I/O)."""
