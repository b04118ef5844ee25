"""The contract with kube-burner-ocp, per supported version: flags, API calls, jobs, prerequisites.

Data (one YAML file per version, each fact with its upstream source) and pure functions over
it: which requests a run makes (``calls``), hence which RBAC rules its ServiceAccount needs.
"""
