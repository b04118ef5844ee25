"""Local stand-ins for the services the operator talks to (Kubernetes API emulator, Prometheus)."""
