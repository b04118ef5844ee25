"""Label and field selectors as the Kubernetes API parses and applies them; pure."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Mapping
from typing import Any

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_TERM = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_EQUALITY_TERM = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})$")
_EXISTS_TERM = re.compile(rf"^(?P<not>!)?\s*(?P<key>{_KEY})$")
_FIELD_TERM = re.compile(r"^(?P<field>[A-Za-z0-9_.]+)\s*(?P<op>==|=|!=)(?P<value>.*)$")
_VALUE_ONLY = re.compile(rf"^{_VALUE}$")


class SelectorError(ValueError):
    """A selector that the API would reject with 400 Bad Request."""


class Operator(str, enum.Enum):
    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One comma-separated term of a label selector."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        match self.operator:
            case Operator.EQUALS | Operator.IN:
                return present and value in self.values
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                return not present or value not in self.values
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
        raise AssertionError(self.operator)  # pragma: no cover


@dataclasses.dataclass(frozen=True)
class LabelSelector:
    """All requirements must hold (comma means AND); the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        return all(requirement.matches(labels or {}) for requirement in self.requirements)


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside `in (...)` value lists."""
    terms: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term.strip() for term in terms if term.strip()]


def _parse_requirement(term: str) -> Requirement:
    if match := _SET_TERM.match(term):
        values = [value.strip() for value in match["values"].split(",")]
        if not all(_VALUE_ONLY.match(value) for value in values):
            raise SelectorError(f"unable to parse requirement: invalid label value in {term!r}")
        operator = Operator.IN if match["op"] == "in" else Operator.NOT_IN
        return Requirement(match["key"], operator, frozenset(values))
    if match := _EQUALITY_TERM.match(term):
        operator = Operator.NOT_EQUALS if match["op"] == "!=" else Operator.EQUALS
        return Requirement(match["key"], operator, frozenset({match["value"]}))
    if match := _EXISTS_TERM.match(term):
        operator = Operator.DOES_NOT_EXIST if match["not"] else Operator.EXISTS
        return Requirement(match["key"], operator)
    raise SelectorError(f"unable to parse requirement: {term!r}")


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h` (also `a==b`)."""
    return LabelSelector(tuple(_parse_requirement(term) for term in _split_terms(text or "")))


# Field selectors: every resource supports metadata.name and metadata.namespace; a few kinds
# support more (as listed by the real apiserver's field label conversion functions).
COMMON_FIELDS = frozenset({"metadata.name", "metadata.namespace"})
KIND_FIELDS: Mapping[str, frozenset[str]] = {
    "Event": frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
    "Pod": frozenset({"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "status.phase"}),
    "Secret": frozenset({"type"}),
    "Namespace": frozenset({"status.phase"}),
    "Job": frozenset({"status.successful"}),
    "Node": frozenset({"spec.unschedulable"}),
}
# Fields whose selector value is not the field itself (the Event's `source` is its component).
_FIELD_ALIASES: Mapping[str, str] = {"source": "source.component"}


@dataclasses.dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negated: bool

    def matches(self, obj: Mapping[str, Any]) -> bool:
        equal = field_value(obj, _FIELD_ALIASES.get(self.field, self.field)) == self.value
        return equal != self.negated


@dataclasses.dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all(requirement.matches(obj) for requirement in self.requirements)

    def exact_name(self) -> str | None:
        """The name this selector pins (`metadata.name=x`), if any."""
        for requirement in self.requirements:
            if requirement.field == "metadata.name" and not requirement.negated:
                return requirement.value
        return None


def field_value(obj: Mapping[str, Any], dotted: str) -> str:
    """A field as a selector sees it: missing is the empty string, scalars are strings."""
    value: Any = obj
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_field_selector(
    text: str | None, kind: str, *, rename: Callable[[str], str] | None = None
) -> FieldSelector:
    """Parse `metadata.name=x,involvedObject.kind!=Pod` for objects of `kind`.

    `rename` maps a field label of another API version onto the stored object's field
    (events.k8s.io's `regarding.name` is the stored Event's `involvedObject.name`).
    """
    supported = COMMON_FIELDS | KIND_FIELDS.get(kind, frozenset())
    requirements: list[FieldRequirement] = []
    for term in _split_terms(text or ""):
        match = _FIELD_TERM.match(term)
        if match is None:
            raise SelectorError(f"invalid selector: {term!r}; can't understand {term!r}")
        field = rename(match["field"]) if rename else match["field"]
        if field not in supported:
            raise SelectorError(f"field label not supported: {match['field']}")
        requirements.append(FieldRequirement(field, match["value"], match["op"] == "!="))
    return FieldSelector(tuple(requirements))
