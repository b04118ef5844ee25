"""perftest-operator: Continuous Performance Testing as a Kubernetes operator."""

GROUP = "perftest.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
# kopf's finalizer on PerfTests and PerfRuns (while a handler or timer needs one).
FINALIZER = f"{GROUP}/finalizer"

__all__ = ["API_VERSION", "FINALIZER", "GROUP", "VERSION"]
