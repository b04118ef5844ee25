"""The contract with one kube-burner-ocp version, as typed data: flags, API calls, jobs (pure).

Every fact carries ``source``: ``"<short> <path>:<lines>"``, where the short name is one of the
contract's ``sources`` (a repository at a commit). Conditions (``when``) are small expressions
over the command line's flag values, evaluated by ``Condition.holds``:

- ``flag`` — the flag is true; ``!flag`` — it is false;
- ``flag=value`` / ``flag!=value`` — compared as text (``pods-per-node>0`` compares as numbers);
- ``a && b`` — both.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_COMPARISON = re.compile(r"^(!?)([a-z0-9-]+)(?:(=|!=|>)(.*))?$")


class FlagType(str, enum.Enum):
    """pflag's value types, as ``Flag.Value.Type()`` names them."""

    BOOL = "bool"
    INT = "int"
    FLOAT64 = "float64"
    STRING = "string"
    DURATION = "duration"
    STRING_SLICE = "stringSlice"
    STRING_ARRAY = "stringArray"
    INT_SLICE = "intSlice"


@dataclass(frozen=True)
class Condition:
    """A ``when`` expression; the empty condition always holds."""

    text: str = ""

    def holds(self, flags: Mapping[str, str]) -> bool:
        """Whether the condition holds for these flag values (text, as Go prints them)."""
        if not self.text.strip():
            return True
        return all(_term_holds(term.strip(), flags) for term in self.text.split("&&"))


def _term_holds(term: str, flags: Mapping[str, str]) -> bool:
    match = _COMPARISON.match(term)
    if match is None:
        raise ValueError(f"cannot read the condition {term!r}")
    negated, name, operator, operand = match.groups()
    value = flags.get(name, "")
    if operator is None:
        result = value == "true"
    elif operator == "=":
        result = value == operand
    elif operator == "!=":
        result = value != operand
    else:
        try:
            result = float(value or 0) > float(operand)
        except ValueError:
            result = False
    return not result if negated else result


@dataclass(frozen=True)
class Flag:
    """One command-line flag of kube-burner-ocp or of one of its subcommands."""

    name: str  # without dashes
    type: FlagType
    default: str  # as Go prints it for --help ("1h0m0s", "true", "[a.yml]")
    source: str
    shorthand: str | None = None
    required: bool = False
    usage: str = ""  # the help text (--help and cobra's usage block print it)


class OnError(str, enum.Enum):
    """What kube-burner-ocp does when the API refuses a call."""

    EXIT = "exit1"  # log.Fatal / os.Exit(1)
    IGNORED = "ignored"  # logged or not, the run goes on
    NOT_FOUND_OK = "notFoundOk"  # 404 is expected; anything else exits 1
    RETRIED = "retried"  # retried until kube-burner's wait budget; the run ends with rc 1 or 2


@dataclass(frozen=True)
class ApiCall:
    """One kind of request, as the RBAC authorizer sees it.

    ``namespace`` is a fixed namespace, or None for cluster-scoped objects and lists across all
    namespaces; ``in_workload_namespaces`` marks requests into the namespaces the run creates.
    """

    verb: str  # get | list | watch | create | update | patch | delete | deletecollection
    group: str  # "" is the core group
    resource: str  # the plural, "serviceaccounts/token" for a subresource
    source: str
    namespace: str | None = None
    name: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    in_workload_namespaces: bool = False
    all_namespaces: bool = False  # a list or watch across every namespace
    when: Condition = Condition()
    on_error: OnError = OnError.EXIT
    phase: str = ""  # where in a run it happens (startup, preload, create, wait, gc, ...)
    # In kube-burner's runtime phases: the call is made once per object kind of this selection
    # (objects, clusterObjects, fixedObjects, namespacedObjects, waitedObjects), whose group and
    # resource replace the empty ones here.
    each: str | None = None


class CheckKind(str, enum.Enum):
    """Target states a workload needs, that the operator checks before it starts a Job."""

    DEPLOYMENT_AVAILABLE = "deploymentAvailable"  # availableReplicas > 0
    OBJECT_FIELD = "objectField"  # the object exists and has ``field``
    RESOURCE_SERVED = "resourceServed"  # group/resource is served by the API
    WORKER_NODES = "workerNodes"  # nodes matching kube-burner-ocp's worker selector exist
    # nodes that take ordinary pods, found without role labels (runner.workers): the project's
    # k8s-node-density sizes itself by them
    SCHEDULABLE_NODES = "schedulableNodes"
    DEFAULT_STORAGE_CLASS = "defaultStorageClass"


@dataclass(frozen=True)
class Prerequisite:
    """A state of the target without which the workload exits 1 before it creates anything."""

    check: CheckKind
    message: str  # kube-burner-ocp's own words when it fails
    source: str
    group: str = ""
    version: str = "v1"
    resource: str = ""
    namespace: str | None = None
    name: str | None = None
    field: str | None = None  # e.g. status.domain
    when: Condition = Condition()

    def describe(self) -> str:
        where = "/".join(part for part in (self.namespace, self.name) if part)
        kind = f"{self.resource}.{self.group}" if self.group else self.resource
        if self.check is CheckKind.DEPLOYMENT_AVAILABLE:
            return f"Deployment {where} with an available replica"
        if self.check is CheckKind.OBJECT_FIELD:
            return f"{kind} {where} with {self.field}"
        if self.check is CheckKind.RESOURCE_SERVED:
            return f"the API {kind} ({self.group or 'core'}/{self.version})"
        if self.check is CheckKind.WORKER_NODES:
            return "nodes labelled node-role.kubernetes.io/worker"
        if self.check is CheckKind.SCHEDULABLE_NODES:
            return (
                "a Ready, schedulable Linux node without a control-plane, master or infra role "
                "and without a NoSchedule or NoExecute taint"
            )
        return "a default StorageClass"


@dataclass(frozen=True)
class GrantedRule:
    """A rule of a Role or ClusterRole that a job creates, as its template writes it."""

    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    source: str
    resource_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectKind:
    """A kind of object a kube-burner job creates (or, for other job types, acts on)."""

    api_version: str
    kind: str
    resource: str  # the REST plural
    namespaced: bool
    source: str
    namespace: str | None = None  # a fixed namespace from the template, else the job's
    wait: bool = True  # kube-burner lists this kind while it waits for the job's objects
    when: Condition = Condition()
    replicas: str = "1"  # how many each iteration creates: a number, or the flag that gives it
    grants: tuple[GrantedRule, ...] = ()  # for a Role or ClusterRole: its rules

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]


class JobType(str, enum.Enum):
    CREATE = "create"
    DELETE = "delete"
    PATCH = "patch"
    READ = "read"
    KUBEVIRT = "kubevirt"


@dataclass(frozen=True)
class BurnerJob:
    """One job of a workload's kube-burner configuration, as rendered for our command line."""

    name: str
    source: str
    type: JobType = JobType.CREATE
    namespace: str = ""
    namespaced_iterations: bool = True
    pre_load_images: bool = True
    wait_when_finished: bool = True
    pod_wait: bool = False
    cleanup: bool = True
    verify_objects: bool = True
    # Namespaces are <namespace>-<iteration // iterationsPerNamespace>: a number, or the flag
    # that gives it (node-density's --iterations-per-namespace).
    iterations_per_namespace: str = "1"
    iterations: str = ""  # the job's jobIterations when its template fixes it; "" is the workload's
    churn: Condition = Condition("false")  # when the job churns
    objects: tuple[ObjectKind, ...] = ()
    label_selector: str | None = None  # delete/patch/read/kubevirt jobs
    when: Condition = Condition()

    def active_objects(self, flags: Mapping[str, str]) -> tuple[ObjectKind, ...]:
        return tuple(o for o in self.objects if o.when.holds(flags))

    def creates_namespaces(self, flags: Mapping[str, str]) -> bool:
        """kube-burner creates namespaces only for namespaced objects without a fixed one."""
        return self.type is JobType.CREATE and any(
            o.namespaced and o.namespace is None for o in self.active_objects(flags)
        )


@dataclass(frozen=True)
class Measurement:
    """A kube-burner measurement a workload enables, and the calls it makes."""

    name: str  # e.g. podLatency
    source: str
    when: Condition = Condition()
    calls: tuple[ApiCall, ...] = ()


@dataclass(frozen=True)
class Churn:
    """The flags that switch a workload's churn on and shape it."""

    enabled: str  # a bool flag
    duration: str
    cycles: str
    delay: str
    percent: str
    deletion_strategy: str


@dataclass(frozen=True)
class KubernetesConfig:
    """How the operator runs one of its own kube-burner configurations, and sizes it."""

    directory: str  # under perftest_operator/contract/workloads
    files: Mapping[str, str]  # file name -> text: config.yml and the templates it names
    size: str  # what spec.workload.iterations counts
    iterations: int  # ITERATIONS when the spec gives none (per node where per_node)
    qps: int
    burst: int
    per_node: bool = False  # ITERATIONS = iterations x the target's schedulable nodes
    gc: bool = False  # global.gc
    cluster_health: bool = False  # global.clusterHealth

    def settings(self) -> dict[str, str]:
        """The configuration's own switches, as the flag values the contract's conditions read."""
        return {
            "gc": "true" if self.gc else "false",
            "check-health": "true" if self.cluster_health else "false",
        }


@dataclass(frozen=True)
class Workload:
    """One subcommand of kube-burner-ocp: its flags, its calls, its jobs, what it needs."""

    name: str
    source: str
    flags: tuple[Flag, ...]
    silence_usage: bool = False
    size_flag: str | None = None  # the flag spec.workload.iterations becomes
    churn: Churn | None = None
    pod_ready_threshold: str | None = None  # the flag of the podLatency P99 Ready threshold
    # A threshold the workload's template fixes whatever the flags say (egressip: 15s).
    pod_ready_threshold_value: str | None = None
    calls: tuple[ApiCall, ...] = ()  # before kube-burner starts, in order
    prerequisites: tuple[Prerequisite, ...] = ()
    jobs: tuple[BurnerJob, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    refused: str | None = None  # why the operator does not run it at this version
    refused_source: str | None = None
    # A configuration of this project run by plain kube-burner (``kube-burner init``): the
    # package directory with its files (contract/workloads/<config>); None for kube-burner-ocp's
    # own subcommands, which run only on OpenShift.
    config: KubernetesConfig | None = None

    @property
    def openshift_only(self) -> bool:
        return self.config is None

    def flag(self, name: str) -> Flag | None:
        return next((f for f in self.flags if f.name == name), None)


@dataclass(frozen=True)
class SourceRef:
    repository: str
    ref: str
    commit: str


@dataclass(frozen=True)
class Release:
    """How the version is published (GoReleaser archives) and what the archive holds."""

    archive: str  # with {arch}
    checksums: str
    binary: str
    source: str


@dataclass(frozen=True)
class Timers:
    """kube-burner's own timers that the Job's deadline must outlast."""

    default_timeout_seconds: float
    gc_timeout_seconds: float  # not settable through kube-burner-ocp's flags
    source: str


@dataclass(frozen=True)
class Messages:
    """How cobra and pflag word their refusals (the stand-in and the docs quote them)."""

    unknown_flag: str  # with {flag}
    unknown_shorthand: str  # with {char} and {arg}
    invalid_argument: str  # with {value}, {flag}, {cause}
    required_flags: str  # with {flags}
    exit_code: int
    source: str
    error_prefix: str = "Error:"
    needs_argument: str = ""  # with {flag}
    needs_argument_shorthand: str = ""  # with {char}
    bad_syntax: str = ""  # with {arg}
    unknown_command: str = ""  # with {command} and {root}
    unknown_command_hint: str = ""  # with {root}
    # Why a value is refused, by the flag's type (bool, int, duration...), with {value}.
    causes: Mapping[str, str] = field(default_factory=dict)
    usage: str = ""  # with {command}, {flags}, {globalFlags}
    usage_without_global_flags: str = ""  # with {command}, {flags}
    help_flag: str = ""  # with {name}


@dataclass(frozen=True)
class CustomTool:
    """Plain kube-burner, which runs custom configurations (``kube-burner init -c FILE``)."""

    tool: str
    version: str
    subcommand: str
    release: Release
    flags: tuple[Flag, ...]  # the subcommand's own and the root's persistent flags
    source: str
    persistent_flags: tuple[str, ...] = ()  # the root's, of ``flags``
    sort_flags: bool = True  # whether the usage block sorts the subcommand's own flags
    silence_usage: bool = False


@dataclass(frozen=True)
class Contract:
    """Everything the operator knows about one kube-burner-ocp version, each fact sourced."""

    tool: str
    version: str
    library_version: str  # the kube-burner library it embeds
    sources: Mapping[str, SourceRef]
    release: Release
    flags: tuple[Flag, ...]  # persistent flags of the root command
    messages: Messages
    startup: tuple[ApiCall, ...]  # every workload, before its own calls
    workloads: Mapping[str, Workload]  # kube-burner-ocp's subcommands (OpenShift only)
    runtime: Mapping[str, tuple[ApiCall, ...]]  # kube-burner's calls per phase, see ApiCall.each
    timers: Timers
    custom: CustomTool
    outputs: Mapping[str, str] = field(default_factory=dict)
    # This project's kube-burner configurations, run by ``kube-burner init`` on any Kubernetes.
    kubernetes_workloads: Mapping[str, Workload] = field(default_factory=dict)

    def workload(self, name: str) -> Workload | None:
        """A workload by name: kube-burner-ocp's, or one of this project's configurations."""
        return self.workloads.get(name) or self.kubernetes_workloads.get(name)

    def health_check_calls(self) -> tuple[ApiCall, ...]:
        """kube-burner's own health check (its ``clusterHealth``), without kube-burner-ocp's."""
        return tuple(
            c for c in self.startup if c.resource == "nodes" and c.when.text == "check-health"
        )

    def runnable(self) -> tuple[str, ...]:
        """Every workload name a PerfTest may use at this version, kube-burner-ocp's first."""
        names = [name for name, found in self.workloads.items() if found.refused is None]
        return (*names, *self.kubernetes_workloads)

    def flag(self, workload: str, name: str) -> Flag | None:
        """A global or workload flag by name."""
        return next((f for f in self.flags_of(workload) if f.name == name), None)

    def flags_of(self, workload: str | None) -> tuple[Flag, ...]:
        """The flags a subcommand accepts; None: plain kube-burner's for custom configurations."""
        if workload is None or workload in self.kubernetes_workloads:
            return self.custom.flags
        found = self.workloads.get(workload)
        return self.flags + (() if found is None else found.flags)
