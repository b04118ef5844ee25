"""Run KPIs from Prometheus: one range query per metric over a run's window, one number each."""
