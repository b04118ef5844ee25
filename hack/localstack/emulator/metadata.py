"""Object metadata rules of the apiserver: names, labels, generated names, timestamps; pure.

`random_suffix` takes the random generator as an argument, so callers choose the seed.
"""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Mapping
from typing import Any

from localstack.emulator.schema import FieldError

# The alphabet the apiserver uses for generateName suffixes (no vowels, no look-alikes).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_DNS_LABEL_ONLY = re.compile(rf"^{_DNS_LABEL}$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Metadata fields only the server sets; clients cannot change them after creation.
SYSTEM_FIELDS = (
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "namespace",
    "name",
)


def format_time(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with seconds and `Z`, as metadata timestamps are written."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choice(_SUFFIX_ALPHABET) for _ in range(length))


def validate_name(name: str, *, dns_label: bool) -> list[FieldError]:
    """Object names are DNS subdomains (namespaces: DNS labels), at most 253 (63) characters."""
    if dns_label:
        if len(name) <= 63 and _DNS_LABEL_ONLY.match(name):
            return []
        rule = (
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters"
            " or '-', and must start and end with an alphanumeric character"
        )
    else:
        if len(name) <= 253 and _DNS_SUBDOMAIN.match(name):
            return []
        rule = (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric"
            " characters, '-' or '.', and must start and end with an alphanumeric character"
        )
    return [FieldError("metadata.name", "FieldValueInvalid", f'Invalid value: "{name}": {rule}')]


def validate_path_segment_name(name: str) -> list[FieldError]:
    """RBAC objects' names only need to be a path segment (`system:discovery` is one):
    apimachinery pkg/api/validation/path/name.go IsValidPathSegmentName."""
    problems = [f"may not be '{name}'"] if name in (".", "..") else []
    problems += [f"may not contain '{c}'" for c in ("/", "%") if c in name]
    return [
        FieldError("metadata.name", "FieldValueInvalid", f'Invalid value: "{name}": {problem}')
        for problem in problems
    ]


def _validate_label_key(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "prefix part must be a lowercase RFC 1123 subdomain"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must"
            " start and end with an alphanumeric character, at most 63 characters"
        )
    return None


def validate_labels(labels: Any) -> list[FieldError]:
    """Label keys are qualified names; values are at most 63 characters of [-A-Za-z0-9_.]."""
    if labels is None:
        return []
    if not isinstance(labels, Mapping):
        return [FieldError("metadata.labels", "FieldValueTypeInvalid", "must be a map of strings")]
    errors = []
    for key, value in labels.items():
        if (problem := _validate_label_key(str(key))) is not None:
            errors.append(
                FieldError(
                    "metadata.labels", "FieldValueInvalid", f'Invalid value: "{key}": {problem}'
                )
            )
        if not isinstance(value, str):
            errors.append(
                FieldError(f"metadata.labels[{key}]", "FieldValueTypeInvalid", "must be a string")
            )
        elif len(value) > 63:
            message = f'Invalid value: "{value}": must be no more than 63 characters'
            errors.append(FieldError("metadata.labels", "FieldValueInvalid", message))
        elif not _LABEL_VALUE.match(value):
            message = (
                f'Invalid value: "{value}": a valid label must be an empty string or consist of'
                " alphanumeric characters, '-', '_' or '.', and must start and end with an"
                " alphanumeric character"
            )
            errors.append(FieldError("metadata.labels", "FieldValueInvalid", message))
    return errors
