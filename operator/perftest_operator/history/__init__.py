"""Where runs live (PerfRun objects) and how a KPI series is read back from them."""
