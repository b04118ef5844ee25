"""A test double of the Kubernetes API server for this operator (see docs/emulator.md).

Modules: `server` (the HTTP handler and `serve`), `process` (start it for tests: a subprocess
or this event loop), `__main__` (`python -m localstack.emulator`), `state` (objects with the
API server's write semantics) and the pure pieces it is made of (schemas, CEL rules, RBAC,
admission, selectors, tables...). Import the module you need: this package re-exports nothing.
"""
