"""The Kubernetes API edge: one small client wrapper, plain dicts in and out (I/O)."""
