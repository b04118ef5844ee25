"""perftest-operator: Continuous Performance Testing as a Kubernetes operator."""

GROUP = "perftest.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

__all__ = ["API_VERSION", "GROUP", "VERSION"]
