"""CEL expressions compiled once and evaluated with cel-python (``celpy``); pure.

The one CEL evaluator of the emulator: ValidatingAdmissionPolicies (`admission_policy`) and the
``x-kubernetes-validations`` rules of CRD schemas (`crd_rules`) both go through it. Standard CEL
only: the API server's cel-go environment adds Kubernetes libraries (``isSorted``, ``quantity``,
``url``, ``ip``, ``format``...) that cel-python does not have, and its error texts differ.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import celpy

# What compiling or evaluating an expression can raise.
CEL_ERRORS: tuple[type[Exception], ...] = (celpy.CELEvalError, celpy.CELParseError, TypeError)


@functools.lru_cache(maxsize=256)
def program(expression: str) -> Any:
    """The expression compiled, once per text (the rules of a CRD run on every write)."""
    environment = celpy.Environment()
    return environment.program(environment.compile(expression))


def evaluate_bool(expression: str, activation: Mapping[str, Any]) -> bool:
    """The expression's value under ``activation`` (variables already CEL values); raises one
    of `CEL_ERRORS` when it cannot be evaluated or is not a bool."""
    result = program(expression).evaluate(dict(activation))
    if not isinstance(result, bool | celpy.celtypes.BoolType):
        raise TypeError(f"expression {expression!r} gave {type(result).__name__}, not a bool")
    return bool(result)


def to_cel(value: Any) -> Any:
    """A JSON value (as decoded from a request body) as a CEL value."""
    return celpy.json_to_cel(value)


def error_text(error: Exception) -> str:
    """An evaluation error's own words (celpy keeps them in the first argument)."""
    if isinstance(error, celpy.CELEvalError) and error.args:
        return str(error.args[0])
    return str(error)


def evaluate_string(expression: str, activation: Mapping[str, Any]) -> str:
    """A string-valued expression (a rule's ``messageExpression``); raises one of `CEL_ERRORS`."""
    result = program(expression).evaluate(dict(activation))
    if not isinstance(result, str):
        raise TypeError(f"expression {expression!r} gave {type(result).__name__}, not a string")
    return str(result)
