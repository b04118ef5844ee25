"""All domain exceptions of perftest-operator, in one module (pure)."""

from __future__ import annotations

from collections.abc import Sequence


class PerfTestError(Exception):
    """Base class of the operator's own errors."""


class SpecError(PerfTestError):
    """A PerfTest or PerfRun spec that the schema accepts but the operator cannot use."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class PerfTestNotFound(SpecError):
    """The PerfTest that a PerfRun names does not exist."""

    def __init__(self, name: str) -> None:
        super().__init__("spec.testName", f"PerfTest {name} not found")


class NotAllowed(SpecError):
    """The spec asks for what the operator's admin does not allow (api.policy); the message
    names the setting."""


class WorkloadNotForPlatform(SpecError):
    """The workload cannot run on the target's platform (kube-burner-ocp's off OpenShift).

    A spec error (the workload must change), checked again like a target Secret: the target the
    kubeconfig points at may change without the PerfTest changing.
    """


class PrometheusUnavailable(PerfTestError):
    """Prometheus could not be reached or answered with an error; the query may succeed later."""


class PrometheusUnauthorized(PrometheusUnavailable):
    """Prometheus refused the credentials (HTTP 401 or 403): a token it does not accept, or an
    account without the right to query. Fixing the token or its RBAC is enough; nothing in the
    PerfTest has to change."""


class PrometheusUnusable(PerfTestError):
    """Something the Prometheus settings need cannot be had (yet): a Secret or its key, the
    operator's own token, a token to mint, the thanos-querier Route. Not a spec error: creating
    the missing object is enough, so callers retry. The message names the field, never a value.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class JobServiceAccountMissing(PerfTestError):
    """The ServiceAccount the hub's kube-burner Job runs as is not in the run namespace.

    Not a spec error: an administrator creates it (the message says how), and the next retry
    finds it.
    """


class QueryError(PerfTestError):
    """Prometheus rejected a metric's PromQL (syntax, evaluation): retrying will not help.

    ``also`` names the other KPIs whose query it is (several KPIs may share one query).
    """

    def __init__(self, metric: str, detail: str, *, also: Sequence[str] = ()) -> None:
        shared = f" (and {', '.join(map(repr, also))}, same query)" if also else ""
        super().__init__(f"metric {metric!r}{shared}: {detail}")
        self.metric = metric
        self.also = tuple(also)


class MetricMissing(PerfTestError):
    """A query returned no samples for the run's window: the metric is absent, not zero."""

    def __init__(self, metric: str, detail: str = "no samples in the run window") -> None:
        super().__init__(f"metric {metric!r}: {detail}")
        self.metric = metric


class PrerequisiteMissing(PerfTestError):
    """The target lacks something the workload needs before it creates anything.

    Not a spec error: the target may get it (a registry enabled, an operator installed), and
    the next retry finds it.
    """


class JobPermissionsMissing(PerfTestError):
    """The hub's Job ServiceAccount exists but may not make requests its workload makes."""


class AnalysisError(PerfTestError):
    """A series that cannot be analysed (non-finite values, wrong shape)."""


class HistoryFileError(PerfTestError):
    """A KPI history file (CSV) that cannot be analysed: the message names the file and problem."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class TargetConfigInvalid(SpecError):
    """The target's kubeconfig (from its Secret) cannot be used; the message never holds a secret."""

    FIELD = "spec.target.kubeconfigSecretRef"

    def __init__(self, problem: str) -> None:
        super().__init__(self.FIELD, problem)


class TargetSecretMissing(SpecError):
    """The Secret (or its key) that holds the target's kubeconfig does not exist."""

    FIELD = "spec.target.kubeconfigSecretRef"

    def __init__(self, problem: str) -> None:
        super().__init__(self.FIELD, problem)


class TargetUnreachable(PerfTestError):
    """The target's API server did not answer, or refused the kubeconfig's credentials.

    Not a spec error: the same spec may work once the target is back, so callers retry.
    """


class Conflict(Exception):
    """The object changed since it was read (HTTP 409 on a write with a resourceVersion).

    Not a PerfTestError: callers read the object again and retry, or leave it to its next event.
    """
