"""The operator's own Prometheus metrics and the endpoint that serves them (I/O edge)."""
