"""What runs inside the kube-burner Job: the runner image's entry point and the run summary it leaves.

Standard library only: the runner image carries this package and nothing else of
perftest_operator (import-linter keeps it that way).
"""
