"""Performance workarounds that reach into kopf, the kubernetes client and CPython (I/O tuning).

Everything here depends on how another library works inside, not on what it promises; an
upgrade is the most likely way to break it. Each workaround says why it is here, how it was
measured (the commit that brought it, `bench-operator`: the operator against the API emulator
and a real Prometheus, 1,000 PerfTests of 100 runs, new runs at 10 per second) and how to remove
it. A unit test checks each one against the installed library, so an upgrade that changes
what one relies on fails there, not in production: 1 tests/unit/test_diffbase.py, 2
test_lean_api.py, 3 test_kube_credentials.py, 4 test_cli_gc.py. Versions read: kopf 1.45.2,
kubernetes 37.0.3, pydantic 2.14.4, CPython 3.11.
"""

from __future__ import annotations

import functools
import gc
import math
import threading
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any, cast

import kopf
import kubernetes

# --- 1. kopf builds an essence of every object on every watch event --------------------------
#
# Why: kopf compares an object's "essence" (spec, labels, annotations) with the one it stored
#   after the last create/update handlers, to detect changes. It builds the new essence on every
#   watch event of every watched kind, by deep-copying the whole body, status included
#   (kopf/_core/reactor/processing.py:178-179, kopf/_cogs/configs/diffbase.py:55-56), though it
#   compares and stores one only for a kind with create/update/delete/resume handlers
#   (processing.py:204-217 `registry._changing.has_handlers`, :519-521). Here only PerfTests have
#   such handlers; PerfRun and Job events are most of the operator's events.
# Measured: about a twelfth of the operator's CPU under load (profile); commit c08fec3, together
#   with workaround 3, bench-operator side by side (old/new alternating): operator CPU per run /
#   bench driver CPU 6.57, 6.56 -> 6.04, 5.91; p99 completion->verdict 0.73, 1.16 -> 0.54, 0.87 s.
# Relies on: the `build(body=, extra_fields=)` hook of kopf.AnnotationsDiffBaseStorage, and no
#   timer or daemon with `idle=` on the other kinds (kopf resets idling on a change of the
#   essence, processing.py:201, which an empty essence never shows).
# Remove: set kopf.AnnotationsDiffBaseStorage (same prefix and key) in handlers/registration.py
#   instead of ChangedKindsDiffBaseStorage, once kopf builds essences only where it compares them.


class ChangedKindsDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    """kopf's annotation storage of the last handled state, built only where it is compared.

    The kinds with create/update/delete handlers get the same essence as before, copied
    without their status first (it is dropped from the essence anyway, unless a handler
    watches a status field); every other kind gets an empty one.
    """

    def __init__(self, *, changed_kinds: Collection[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.changed_kinds = frozenset(changed_kinds)

    def build(
        self,
        *,
        body: kopf.Body,
        extra_fields: Iterable[kopf.FieldSpec] | None = None,
    ) -> kopf.BodyEssence:
        if body.get("kind") not in self.changed_kinds:
            return {}
        fields = list(extra_fields or [])
        if "status" in body and not any(_in_status(field) for field in fields):
            without_status = {key: value for key, value in body.items() if key != "status"}
            body = kopf.Body(cast(kopf.RawBody, without_status))
        return super().build(body=body, extra_fields=fields)


def _in_status(field: kopf.FieldSpec) -> bool:
    """Whether a kopf field spec ("status.x", ["status", "x"] or ("status", "x")) is in status."""
    if field is None:
        return False
    path = field.split(".") if isinstance(field, str) else list(field)
    return bool(path) and path[0] == "status"


# --- 2. the kubernetes client checks every argument with pydantic ----------------------------
#
# Why: from kubernetes 37 every generated API method is wrapped in pydantic's `validate_call`
#   (kubernetes/client/api/core_v1_api.py:99 and every other method),
#   which checks each argument and turns a dict body into its model and back. The operator
#   sends plain dicts, which the API server validates anyway.
# Measured: a third of the operator's time per request at scale (an Event or a Job body);
#   commit d45d022, with the metadata-only lists and orjson: operator CPU per run -19% side by
#   side in bench-operator.
# Relies on: pydantic keeping the undecorated function as `.raw_function` on the wrapper
#   (pydantic/_internal/_validate_call.py:45), reached through the method on the class. Where
#   it is absent (kubernetes < 37) the checked method is called: slower, same request.
# Remove: `getattr(api, name)` in place of `unchecked_method(api, name)` in kube/api_client.py.


def unchecked_method(api: Any, name: str) -> Callable[..., Any]:
    """`api.<name>` without pydantic's checks of its arguments (the method itself if it has none)."""
    raw = getattr(getattr(type(api), name, None), "raw_function", None)
    if raw is None:
        return cast(Callable[..., Any], getattr(api, name))
    return functools.partial(raw, api)


# --- 3. the kubernetes client refreshes credentials before every request ---------------------
#
# Why: the client runs `Configuration.refresh_api_key_hook` before every request
#   (kubernetes/client/configuration.py:560-561). The loaders' hooks re-read a token only once
#   it expires (in a pod: each minute), but also apply the server address, certificates and
#   proxy again each time (kubernetes/config/kube_config.py:529-543, incluster_config.py:87-100),
#   which scans the environment for proxy variables; and each run installs a new hook.
# Measured: about a twentieth of the operator's CPU under load (profile); commit c08fec3, with
#   workaround 1 (figures there).
# Relies on: the hook being an attribute the client calls with the configuration, and the
#   loaders installing their hook again each time it runs.
# Remove: drop the `throttle_credential_refresh` call in kube/api_client.py `from_environment`.

# How often the credentials of the operator's own kubeconfig or service account are looked at.
CREDENTIAL_REFRESH_SECONDS = 10.0


def throttle_credential_refresh(
    configuration: kubernetes.client.Configuration,
    *,
    every: float = CREDENTIAL_REFRESH_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Let the loader's credential hook run at most once per `every` seconds.

    A token is still read again at most `every` seconds after it was due.
    """
    if configuration.refresh_api_key_hook is None:
        return
    hook = [configuration.refresh_api_key_hook]
    last = [-math.inf]
    lock = threading.Lock()  # kopf's handler threads share the client

    def refresh(config: kubernetes.client.Configuration) -> None:
        with lock:
            now = clock()
            if now - last[0] < every:
                return
            last[0] = now
            hook[0](config)
            # The loaders install their hook again each time it runs: keep it behind this one.
            if config.refresh_api_key_hook not in (refresh, None):
                hook[0] = config.refresh_api_key_hook
            config.refresh_api_key_hook = refresh

    configuration.refresh_api_key_hook = refresh


# --- 4. CPython's cyclic garbage collector pauses everything ---------------------------------
#
# Why: the operator's garbage is mostly short-lived, acyclic JSON (a test's history per step),
#   which reference counting frees. With the default thresholds (700, 10, 10) the collector
#   still ran every 700 allocations and walked the whole heap every few seconds; what is loaded
#   at start (modules, classes) is never garbage.
# Measured: commit a05e3ee: full collections paused every handler for 100-300 ms at 1,000
#   PerfTests (a fifth of the operator's CPU); after it, bench-operator p99 completion->verdict
#   1.26 / 2.00 s at 10 runs/s offered, 8.8-9.3 completed. The API emulator (hack/localstack)
#   had paused every request for up to 2.3 s walking its seeded store.
# Relies on: CPython 3.11's generational collector (gc.freeze, a young collection after
#   threshold0 net allocations; CPython 3.14's incremental collector reads the thresholds
#   differently).
# Remove: drop the `tune_garbage_collection()` call in cli.py (and in the emulator).

# A young collection every 50,000 allocations instead of 700, a full one every 20 x 10 of those.
GC_THRESHOLDS = (50_000, 20, 10)


def tune_garbage_collection() -> None:
    """Freeze what is loaded (never walked again) and space the cyclic collections out.

    For a long-running process, once it has loaded what it needs: the operator before kopf
    runs; the API emulator once seeded (it disables the collector while it seeds, then calls
    this and enables it again).
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
