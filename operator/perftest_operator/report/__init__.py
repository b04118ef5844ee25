"""`perftest analyze`: KPI history files in, change points out as text, JSON, JUnit or a plot."""
