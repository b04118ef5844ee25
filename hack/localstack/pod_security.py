"""The Pod Security Standards' checks, as Kubernetes' pod-security-admission library runs them; pure.

`check_pod(spec, metadata, level, version)` evaluates a pod's spec and metadata (JSON form, as
the API serves them) against the `baseline` or `restricted` level of a policy version ("latest",
the default, or "v1.x") and returns the violations in the library's order, each worded as the
library's ForbiddenReason and ForbiddenDetail (`str(violation)` is "reason (detail)", as
AggregateCheckResult.ForbiddenDetail joins them). `privileged` allows everything.

`namespace_policy(labels)` resolves a namespace's `pod-security.kubernetes.io/*` labels as the
admission does (api.PolicyToEvaluate over the API server's default policy, privileged:latest for
every mode; a label that does not parse evaluates as restricted / latest and is reported), and
`violates_message` / `forbidden_message` word the refusal:

    pods "NAME" is forbidden: violates PodSecurity "restricted:latest": REASON1 (DETAIL1), ...

Semantics (each check cites its source below):
- Containers are the init containers, then the containers, then the ephemeral containers
  (visitContainers); a check that names "containers" covers all three.
- Pod-level settings: runAsNonRoot=true and a RuntimeDefault/Localhost seccompProfile at pod
  level satisfy every container that leaves the field unset; a container's own value wins (a
  container's runAsNonRoot=false is a violation even under a pod-level true). runAsUser=0,
  seLinuxOptions, AppArmor and hostProcess are checked at both levels independently.
- The restricted level runs every baseline check except those its own checks override
  (capabilities, hostPath volumes, seccomp, procMount), baseline checks first, each group in the
  order of the check IDs (registry.go populate).
- Versions: each check has revisions by minimum policy version; a version newer than the newest
  revision (and "latest") uses the newest. At latest (v1.35 revisions): pods with
  `hostUsers: false` may run as root and set any procMount under baseline; windows pods
  (`spec.os.name: windows`) are exempt from allowPrivilegeEscalation, restricted capabilities
  and restricted seccomp.

Source: kubernetes/pod-security-admission at tag v0.36.2 (commit
39b45cd167e1bd665aaeefc6e1acc1cc753259f2, the staging copy of Kubernetes v1.36.2), files
policy/*.go, api/helpers.go and admission/admission.go; line numbers below are at that commit.
Constants from k8s.io/api core/v1 annotation_key_constants.go (AppArmor and seccomp annotation
keys and values).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LEVELS = ("privileged", "baseline", "restricted")  # api/constants.go validLevels
LABEL_PREFIX = "pod-security.kubernetes.io/"
ENFORCE_LABEL = LABEL_PREFIX + "enforce"
ENFORCE_VERSION_LABEL = LABEL_PREFIX + "enforce-version"
AUDIT_LABEL = LABEL_PREFIX + "audit"
AUDIT_VERSION_LABEL = LABEL_PREFIX + "audit-version"
WARN_LABEL = LABEL_PREFIX + "warn"
WARN_VERSION_LABEL = LABEL_PREFIX + "warn-version"

Version = tuple[int, int]
LATEST: Version = (1, 1_000_000)  # newer than every real version, as api.Version{latest: true}


@dataclass(frozen=True)
class Violation:
    """One failed check: the library's ForbiddenReason and (possibly empty) ForbiddenDetail."""

    reason: str
    detail: str = ""

    def __str__(self) -> str:
        # policy/checks.go L106-L120 (AggregateCheckResult.ForbiddenDetail)
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


CheckFn = Callable[[Mapping[str, Any], Mapping[str, Any]], Violation | None]


# Helpers: policy/helpers.go, policy/visitor.go.


def _join_quote(items: Sequence[str]) -> str:
    # policy/helpers.go L25-L30: quotes added, nothing escaped
    return '"' + '", "'.join(items) + '"' if items else ""


def _pluralize(singular: str, plural: str, count: int) -> str:
    # policy/helpers.go L32-L37
    return singular if count == 1 else plural


def _containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Init containers, containers, ephemeral containers (policy/visitor.go L27-L37)."""
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or ():
            if isinstance(container, Mapping):
                yield container


def _name(container: Mapping[str, Any]) -> str:
    return str(container.get("name", ""))


def _security_context(holder: Mapping[str, Any]) -> Mapping[str, Any] | None:
    context = holder.get("securityContext")
    return context if isinstance(context, Mapping) else None


def _field(holder: Mapping[str, Any], *path: str) -> Any:
    """holder.securityContext.<path>, None where any step is absent (a nil pointer in Go)."""
    value: Any = _security_context(holder)
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def _user_namespace(spec: Mapping[str, Any]) -> bool:
    # policy/helpers.go L41-L43 (relaxPolicyForUserNamespacePod): hostUsers set to false
    return spec.get("hostUsers") is False


def _windows(spec: Mapping[str, Any]) -> bool:
    os = spec.get("os")
    return isinstance(os, Mapping) and os.get("name") == "windows"


def _setters(pod: bool, containers: Sequence[str]) -> list[str]:
    """["pod", 'container(s) "a", "b"'] as the checks that name both levels build them."""
    setters = ["pod"] if pod else []
    if containers:
        setters.append(
            f"{_pluralize('container', 'containers', len(containers))} {_join_quote(containers)}"
        )
    return setters


def go_quote(text: str) -> str:
    """Go's %q of a string (strconv.Quote): escapes, non-printable runes as \\x, \\u, \\U."""
    escapes = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t"}
    escapes |= {"\v": r"\v", "\\": r"\\", '"': r"\""}
    out = []
    for char in text:
        code = ord(char)
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


# Baseline checks.


def host_namespaces(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_hostNamespaces.go L58-L82 (hostNamespaces_1_0)
    shared = [f"{field}=true" for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field)]
    return Violation("host namespaces", ", ".join(shared)) if shared else None


def privileged(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_privileged.go L56-L75 (privileged_1_0)
    bad = [_name(c) for c in _containers(spec) if _field(c, "privileged") is True]
    if not bad:
        return None
    return Violation(
        "privileged",
        f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)}"
        " must not set securityContext.privileged=true",
    )


# policy/check_capabilities_baseline.go L61-L77 (capabilities_allowed_1_0)
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


def capabilities_baseline(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_capabilities_baseline.go L79-L110 (capabilitiesBaseline_1_0)
    bad: list[str] = []
    added: set[str] = set()
    for container in _containers(spec):
        extra = {
            str(cap)
            for cap in _field(container, "capabilities", "add") or ()
            if str(cap) not in BASELINE_CAPABILITIES
        }
        if extra:
            bad.append(_name(container))
            added |= extra
    if not bad:
        return None
    return Violation(
        "non-default capabilities",
        f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)} must not include"
        f" {_join_quote(sorted(added))} in securityContext.capabilities.add",
    )


def host_path_volumes(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_hostPathVolumes.go L58-L76 (hostPathVolumes_1_0)
    bad = [
        str(v.get("name", ""))
        for v in spec.get("volumes") or ()
        if isinstance(v, Mapping) and v.get("hostPath") is not None
    ]
    if not bad:
        return None
    return Violation(
        "hostPath volumes", f"{_pluralize('volume', 'volumes', len(bad))} {_join_quote(bad)}"
    )


def host_ports(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_hostPorts.go L60-L91 (hostPorts_1_0)
    bad: list[str] = []
    ports: set[str] = set()
    for container in _containers(spec):
        used = {
            str(port.get("hostPort"))
            for port in container.get("ports") or ()
            if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0)
        }
        if used:
            bad.append(_name(container))
            ports |= used
    if not bad:
        return None
    return Violation(
        "hostPort",
        f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)}"
        f" {_pluralize('uses', 'use', len(bad))}"
        f" {_pluralize('hostPort', 'hostPorts', len(ports))} {', '.join(sorted(ports))}",
    )


def _handler_hosts(handler: Any) -> list[str]:
    # policy/check_hostProbesAndhostLifecycle.go L124-L150 (getForbiddenHostProbes/-Lifecycle)
    if not isinstance(handler, Mapping):
        return []
    hosts = []
    for action in ("httpGet", "tcpSocket"):
        value = handler.get(action)
        if isinstance(value, Mapping) and value.get("host"):
            hosts.append(str(value["host"]))
    return hosts


def host_probes_and_lifecycle(
    metadata: Mapping[str, Any], spec: Mapping[str, Any]
) -> Violation | None:
    # policy/check_hostProbesAndhostLifecycle.go L76-L122 (hostProbesAndHostLifecycleV1Dot34)
    bad: set[str] = set()
    hosts: set[str] = set()
    for container in _containers(spec):
        lifecycle = container.get("lifecycle")
        lifecycle = lifecycle if isinstance(lifecycle, Mapping) else {}
        handlers = [container.get(probe) for probe in ("livenessProbe", "readinessProbe")]
        handlers += [container.get("startupProbe"), lifecycle.get("postStart")]
        handlers.append(lifecycle.get("preStop"))
        found = [host for handler in handlers for host in _handler_hosts(handler)]
        if found:
            bad.add(_name(container))
            hosts.update(found)
    if not bad:
        return None
    return Violation(
        "probe or lifecycle host",
        f"{_pluralize('container', 'containers', len(bad))} {_join_quote(sorted(bad))}"
        f" {_pluralize('uses', 'use', len(bad))}"
        f" {_pluralize('probe or lifecycle host', 'probe or lifecycle hosts', len(hosts))}"
        f" {_join_quote(sorted(hosts))}",
    )


APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def app_armor_profile(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_appArmorProfile.go L83-L143 (appArmorProfile_1_0); allowed types L73-L81,
    # allowed annotation values L67-L71
    allowed_types = ("RuntimeDefault", "Localhost")
    bad_values: set[str] = set()
    profile = _field(spec, "appArmorProfile")
    pod_bad = False
    if isinstance(profile, Mapping) and profile.get("type") not in allowed_types:
        pod_bad = True
        bad_values.add(str(profile.get("type") or ""))
    bad: list[str] = []
    for container in _containers(spec):
        profile = _field(container, "appArmorProfile")
        if isinstance(profile, Mapping) and profile.get("type") not in allowed_types:
            bad.append(_name(container))
            bad_values.add(str(profile.get("type") or ""))
    setters = _setters(pod_bad, bad)
    annotations = metadata.get("annotations") or {}
    forbidden = sorted(
        f"{key}={go_quote(str(value))}"
        for key, value in annotations.items()
        if key.startswith(APPARMOR_ANNOTATION_PREFIX)
        and not (not value or value == "runtime/default" or str(value).startswith("localhost/"))
    )
    values = sorted(bad_values)
    if forbidden:
        values += forbidden
        setters.append(_pluralize("annotation", "annotations", len(forbidden)))
    if not setters:
        return None
    return Violation(
        _pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
        f"{' and '.join(setters)} must not set AppArmor profile type to {_join_quote(values)}",
    )


# policy/check_seLinuxOptions.go L77-L80 (selinuxAllowedTypes1_0, selinuxAllowedTypes1_31)
SELINUX_TYPES_1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
SELINUX_TYPES_1_31 = SELINUX_TYPES_1_0 | {"container_engine_t"}


def _se_linux_options_with(allowed: frozenset[str]) -> CheckFn:
    def check(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
        # policy/check_seLinuxOptions.go L90-L172 (seLinuxOptions)
        bad_types: set[str] = set()
        set_user = set_role = False

        def valid(options: Mapping[str, Any]) -> bool:
            nonlocal set_user, set_role
            ok = True
            if str(options.get("type") or "") not in allowed:
                ok = False
                bad_types.add(str(options.get("type") or ""))
            if options.get("user"):
                ok, set_user = False, True
            if options.get("role"):
                ok, set_role = False, True
            return ok

        options = _field(spec, "seLinuxOptions")
        pod_bad = isinstance(options, Mapping) and not valid(options)
        bad = []
        for container in _containers(spec):
            options = _field(container, "seLinuxOptions")
            if isinstance(options, Mapping) and not valid(options):
                bad.append(_name(container))
        setters = _setters(pod_bad, bad)
        if not setters:
            return None
        data = []
        if bad_types:
            types = sorted(bad_types)
            data.append(f"{_pluralize('type', 'types', len(types))} {_join_quote(types)}")
        if set_user:
            data.append("user may not be set")
        if set_role:
            data.append("role may not be set")
        return Violation(
            "seLinuxOptions",
            f"{' and '.join(setters)} set forbidden securityContext.seLinuxOptions:"
            f" {'; '.join(data)}",
        )

    return check


# policy/check_seLinuxOptions.go L82-L88
se_linux_options_1_0 = _se_linux_options_with(SELINUX_TYPES_1_0)
se_linux_options_1_31 = _se_linux_options_with(SELINUX_TYPES_1_31)


def proc_mount(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_procMount_baseline.go L66-L97 (procMount_1_0)
    bad: list[str] = []
    types: set[str] = set()
    for container in _containers(spec):
        value = _field(container, "procMount")
        if value is not None and value != "Default":
            bad.append(_name(container))
            types.add(str(value))
    if not bad:
        return None
    return Violation(
        "procMount",
        f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)}"
        f" must not set securityContext.procMount to {_join_quote(sorted(types))}",
    )


def proc_mount_1_35_baseline(
    metadata: Mapping[str, Any], spec: Mapping[str, Any]
) -> Violation | None:
    # policy/check_procMount_baseline.go L100-L106 (procMount1_35baseline)
    return None if _user_namespace(spec) else proc_mount(metadata, spec)


SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"


def _valid_seccomp(profile_type: Any) -> bool:
    # policy/check_seccompProfile_baseline.go L75-L78 (validSeccomp)
    return profile_type in ("Localhost", "RuntimeDefault")


def seccomp_baseline_1_0(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_seccompProfile_baseline.go L87-L118 (seccompProfileBaseline_1_0); allowed
    # annotation values L80-L84
    def valid(value: str) -> bool:
        return value in ("runtime/default", "docker/default") or value.startswith("localhost/")

    annotations = metadata.get("annotations") or {}
    keys = [SECCOMP_POD_ANNOTATION]
    keys += [SECCOMP_CONTAINER_ANNOTATION_PREFIX + _name(c) for c in _containers(spec)]
    forbidden = {
        f"{key}={go_quote(str(annotations[key]))}"
        for key in keys
        if key in annotations and not valid(str(annotations[key]))
    }
    if not forbidden:
        return None
    return Violation(
        "seccompProfile",
        f"forbidden {_pluralize('annotation', 'annotations', len(forbidden))}"
        f" {', '.join(sorted(forbidden))}",
    )


def _seccomp_explicit(spec: Mapping[str, Any]) -> tuple[list[str], set[str], bool]:
    """(bad setters, bad values, pod level set to a valid type) from explicit seccompProfiles."""
    bad_values: set[str] = set()
    profile = _field(spec, "seccompProfile")
    pod_bad = pod_set = False
    if isinstance(profile, Mapping):
        pod_bad = not _valid_seccomp(profile.get("type"))
        pod_set = not pod_bad
        if pod_bad:
            bad_values.add(str(profile.get("type") or ""))
    bad = []
    for container in _containers(spec):
        profile = _field(container, "seccompProfile")
        if isinstance(profile, Mapping) and not _valid_seccomp(profile.get("type")):
            bad.append(_name(container))
            bad_values.add(str(profile.get("type") or ""))
    return _setters(pod_bad, bad), bad_values, pod_set


def _seccomp_explicitly_bad(setters: list[str], values: set[str]) -> Violation:
    return Violation(
        "seccompProfile",
        f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to"
        f" {_join_quote(sorted(values))}",
    )


def seccomp_baseline_1_19(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_seccompProfile_baseline.go L121-L171 (seccompProfileBaseline_1_19)
    setters, values, _ = _seccomp_explicit(spec)
    return _seccomp_explicitly_bad(setters, values) if setters else None


# policy/check_sysctls.go L85-L106 (sysctlsAllowedV1Dot0 ... V1Dot32)
SYSCTLS_1_0 = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    }
)
SYSCTLS_1_27 = SYSCTLS_1_0 | {"net.ipv4.ip_local_reserved_ports"}
SYSCTLS_1_29 = SYSCTLS_1_27 | {
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SYSCTLS_1_32 = SYSCTLS_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}


def _sysctls_with(allowed: frozenset[str]) -> CheckFn:
    def check(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
        # policy/check_sysctls.go L124-L143 (sysctls): in the pod's order, not sorted
        forbidden = [
            str(sysctl.get("name", ""))
            for sysctl in _field(spec, "sysctls") or ()
            if isinstance(sysctl, Mapping) and str(sysctl.get("name", "")) not in allowed
        ]
        return Violation("forbidden sysctls", ", ".join(forbidden)) if forbidden else None

    return check


# policy/check_sysctls.go L108-L122
sysctls_1_0 = _sysctls_with(SYSCTLS_1_0)
sysctls_1_27 = _sysctls_with(SYSCTLS_1_27)
sysctls_1_29 = _sysctls_with(SYSCTLS_1_29)
sysctls_1_32 = _sysctls_with(SYSCTLS_1_32)


def windows_host_process(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_windowsHostProcess.go L59-L102 (windowsHostProcess_1_0)
    bad = [
        _name(c) for c in _containers(spec) if _field(c, "windowsOptions", "hostProcess") is True
    ]
    setters = _setters(_field(spec, "windowsOptions", "hostProcess") is True, bad)
    if not setters:
        return None
    return Violation(
        "hostProcess",
        f"{' and '.join(setters)} must not set securityContext.windowsOptions.hostProcess=true",
    )


# Restricted checks.


def allow_privilege_escalation(
    metadata: Mapping[str, Any], spec: Mapping[str, Any]
) -> Violation | None:
    # policy/check_allowPrivilegeEscalation.go L64-L84 (allowPrivilegeEscalation_1_8): unset
    # is as bad as true
    bad = [
        _name(c) for c in _containers(spec) if _field(c, "allowPrivilegeEscalation") is not False
    ]
    if not bad:
        return None
    return Violation(
        "allowPrivilegeEscalation != false",
        f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)}"
        " must set securityContext.allowPrivilegeEscalation=false",
    )


def allow_privilege_escalation_1_25(
    metadata: Mapping[str, Any], spec: Mapping[str, Any]
) -> Violation | None:
    # policy/check_allowPrivilegeEscalation.go L86-L93: windows pods exempt
    return None if _windows(spec) else allow_privilege_escalation(metadata, spec)


def capabilities_restricted(
    metadata: Mapping[str, Any], spec: Mapping[str, Any]
) -> Violation | None:
    # policy/check_capabilities_restricted.go L79-L136 (capabilitiesRestricted_1_22)
    missing_drop_all: list[str] = []
    adding: list[str] = []
    added: set[str] = set()
    for container in _containers(spec):
        capabilities = _field(container, "capabilities")
        if not isinstance(capabilities, Mapping):
            missing_drop_all.append(_name(container))
            continue
        if "ALL" not in [str(cap) for cap in capabilities.get("drop") or ()]:
            missing_drop_all.append(_name(container))
        extra = {str(cap) for cap in capabilities.get("add") or () if cap != "NET_BIND_SERVICE"}
        if extra:
            adding.append(_name(container))
            added |= extra
    details = []
    if missing_drop_all:
        details.append(
            f"{_pluralize('container', 'containers', len(missing_drop_all))}"
            f' {_join_quote(missing_drop_all)} must set securityContext.capabilities.drop=["ALL"]'
        )
    if adding:
        details.append(
            f"{_pluralize('container', 'containers', len(adding))} {_join_quote(adding)}"
            f" must not include {_join_quote(sorted(added))} in securityContext.capabilities.add"
        )
    return Violation("unrestricted capabilities", "; ".join(details)) if details else None


def capabilities_restricted_1_25(
    metadata: Mapping[str, Any], spec: Mapping[str, Any]
) -> Violation | None:
    # policy/check_capabilities_restricted.go L138-L145: windows pods exempt
    return None if _windows(spec) else capabilities_restricted(metadata, spec)


# policy/check_restrictedVolumes.go L93-L102 (allowed sources) and L108-L153 (the first
# restricted source a volume has names its type; none known: "unknown")
ALLOWED_VOLUME_SOURCES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
)
RESTRICTED_VOLUME_SOURCES = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
)


def restricted_volumes(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_restrictedVolumes.go L88-L173 (restrictedVolumes_1_0)
    bad: list[str] = []
    types: set[str] = set()
    for volume in spec.get("volumes") or ():
        if not isinstance(volume, Mapping):
            continue
        if any(volume.get(source) is not None for source in ALLOWED_VOLUME_SOURCES):
            continue
        bad.append(str(volume.get("name", "")))
        kind = next((s for s in RESTRICTED_VOLUME_SOURCES if volume.get(s) is not None), "unknown")
        types.add(kind)
    if not bad:
        return None
    return Violation(
        "restricted volume types",
        f"{_pluralize('volume', 'volumes', len(bad))} {_join_quote(bad)}"
        f" {_pluralize('uses', 'use', len(bad))}"
        f" {_pluralize('restricted volume type', 'restricted volume types', len(types))}"
        f" {_join_quote(sorted(types))}",
    )


def run_as_non_root(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_runAsNonRoot.go L78-L145 (runAsNonRoot1_0): a pod-level true covers the
    # containers that leave it unset; an explicit false anywhere is reported first
    pod_value = _field(spec, "runAsNonRoot")
    explicitly_bad: list[str] = []
    implicitly_bad: list[str] = []
    for container in _containers(spec):
        value = _field(container, "runAsNonRoot")
        if value is not None:
            if value is False:
                explicitly_bad.append(_name(container))
        elif pod_value is not True:
            implicitly_bad.append(_name(container))
    setters = _setters(pod_value is False, explicitly_bad)
    if setters:
        return Violation(
            "runAsNonRoot != true",
            f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false",
        )
    if implicitly_bad:
        return Violation(
            "runAsNonRoot != true",
            f"pod or {_pluralize('container', 'containers', len(implicitly_bad))}"
            f" {_join_quote(implicitly_bad)} must set securityContext.runAsNonRoot=true",
        )
    return None


def run_as_non_root_1_35(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_runAsNonRoot.go L67-L76: pods in a user namespace may run as root
    return None if _user_namespace(spec) else run_as_non_root(metadata, spec)


def _is_zero(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == 0


def run_as_user(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_runAsUser.go L79-L116 (runAsUser1_23)
    bad = [_name(c) for c in _containers(spec) if _is_zero(_field(c, "runAsUser"))]
    setters = _setters(_is_zero(_field(spec, "runAsUser")), bad)
    if not setters:
        return None
    return Violation("runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0")


def run_as_user_1_35(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_runAsUser.go L68-L77: pods in a user namespace may set runAsUser=0
    return None if _user_namespace(spec) else run_as_user(metadata, spec)


def seccomp_restricted(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> Violation | None:
    # policy/check_seccompProfile_restricted.go L69-L144 (seccompProfileRestricted_1_19): a
    # valid pod-level profile covers containers that set none; explicit bad values first
    setters, values, pod_set = _seccomp_explicit(spec)
    if setters:
        return _seccomp_explicitly_bad(setters, values)
    unset = [
        _name(c) for c in _containers(spec) if not isinstance(_field(c, "seccompProfile"), Mapping)
    ]
    if unset and not pod_set:
        return Violation(
            "seccompProfile",
            f"pod or {_pluralize('container', 'containers', len(unset))} {_join_quote(unset)}"
            ' must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
        )
    return None


def seccomp_restricted_1_25(
    metadata: Mapping[str, Any], spec: Mapping[str, Any]
) -> Violation | None:
    # policy/check_seccompProfile_restricted.go L148-L155: windows pods exempt
    return None if _windows(spec) else seccomp_restricted(metadata, spec)


# The registry.


@dataclass(frozen=True)
class Revision:
    """A check's revision from a minimum policy version on; it replaces `overrides` there."""

    minimum: Version
    check: CheckFn
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    id: str
    level: str
    revisions: tuple[Revision, ...]


# Each check's ID, level and revisions, from its Check<Name>() constructor.
CHECKS = (
    # policy/check_allowPrivilegeEscalation.go L44-L62
    Check(
        "allowPrivilegeEscalation",
        "restricted",
        (
            Revision((1, 8), allow_privilege_escalation),
            Revision((1, 25), allow_privilege_escalation_1_25),
        ),
    ),
    # policy/check_appArmorProfile.go L54-L65
    Check("appArmorProfile", "baseline", (Revision((1, 0), app_armor_profile),)),
    # policy/check_capabilities_baseline.go L48-L59
    Check("capabilities_baseline", "baseline", (Revision((1, 0), capabilities_baseline),)),
    # policy/check_capabilities_restricted.go L59-L77
    Check(
        "capabilities_restricted",
        "restricted",
        (
            Revision((1, 22), capabilities_restricted, ("capabilities_baseline",)),
            Revision((1, 25), capabilities_restricted_1_25, ("capabilities_baseline",)),
        ),
    ),
    # policy/check_hostNamespaces.go L45-L56
    Check("hostNamespaces", "baseline", (Revision((1, 0), host_namespaces),)),
    # policy/check_hostPathVolumes.go L45-L56
    Check("hostPathVolumes", "baseline", (Revision((1, 0), host_path_volumes),)),
    # policy/check_hostPorts.go L47-L58
    Check("hostPorts", "baseline", (Revision((1, 0), host_ports),)),
    # policy/check_hostProbesAndhostLifecycle.go L63-L74
    Check(
        "hostProbesAndHostLifecycle", "baseline", (Revision((1, 34), host_probes_and_lifecycle),)
    ),
    # policy/check_privileged.go L43-L54
    Check("privileged", "baseline", (Revision((1, 0), privileged),)),
    # policy/check_procMount_baseline.go L48-L63
    Check(
        "procMount",
        "baseline",
        (Revision((1, 0), proc_mount), Revision((1, 35), proc_mount_1_35_baseline)),
    ),
    # policy/check_procMount_restricted.go L40-L56
    Check("procMount_restricted", "restricted", (Revision((1, 35), proc_mount, ("procMount",)),)),
    # policy/check_restrictedVolumes.go L74-L86
    Check(
        "restrictedVolumes",
        "restricted",
        (Revision((1, 0), restricted_volumes, ("hostPathVolumes",)),),
    ),
    # policy/check_runAsNonRoot.go L50-L65
    Check(
        "runAsNonRoot",
        "restricted",
        (Revision((1, 0), run_as_non_root), Revision((1, 35), run_as_non_root_1_35)),
    ),
    # policy/check_runAsUser.go L51-L66
    Check(
        "runAsUser",
        "restricted",
        (Revision((1, 23), run_as_user), Revision((1, 35), run_as_user_1_35)),
    ),
    # policy/check_seLinuxOptions.go L60-L75
    Check(
        "seLinuxOptions",
        "baseline",
        (
            Revision((1, 0), se_linux_options_1_0),
            Revision((1, 31), se_linux_options_1_31),
        ),
    ),
    # policy/check_seccompProfile_baseline.go L58-L73
    Check(
        "seccompProfile_baseline",
        "baseline",
        (Revision((1, 0), seccomp_baseline_1_0), Revision((1, 19), seccomp_baseline_1_19)),
    ),
    # policy/check_seccompProfile_restricted.go L48-L66
    Check(
        "seccompProfile_restricted",
        "restricted",
        (
            Revision((1, 19), seccomp_restricted, ("seccompProfile_baseline",)),
            Revision((1, 25), seccomp_restricted_1_25, ("seccompProfile_baseline",)),
        ),
    ),
    # policy/check_sysctls.go L61-L83
    Check(
        "sysctls",
        "baseline",
        (
            Revision((1, 0), sysctls_1_0),
            Revision((1, 27), sysctls_1_27),
            Revision((1, 29), sysctls_1_29),
            Revision((1, 32), sysctls_1_32),
        ),
    ),
    # policy/check_windowsHostProcess.go L46-L57
    Check("windowsHostProcess", "baseline", (Revision((1, 0), windows_host_process),)),
)

# The newest revision's version: "latest", and any newer version, evaluate as this one
# (policy/registry.go L140-L147 maxVersion, L67-L73 EvaluatePod).
NEWEST: Version = max(revision.minimum for check in CHECKS for revision in check.revisions)


def checks_for(level: str, version: Version = LATEST) -> list[tuple[str, CheckFn]]:
    """The (ID, check) pairs a level runs at a version, in the library's order.

    policy/registry.go L140-L192 (populate): each check's newest revision not newer than the
    version; restricted adds its checks and drops the baseline ones they override; baseline
    checks first, then restricted, each sorted by ID (Go's byte order, as Python's for ASCII).
    """
    if level == "privileged":
        return []  # policy/registry.go L68-L70
    version = min(version, NEWEST)
    current: dict[str, tuple[str, Revision]] = {}
    for check in CHECKS:
        revisions = [r for r in check.revisions if r.minimum <= version]
        if revisions and (check.level == "baseline" or level == "restricted"):
            current[check.id] = (check.level, revisions[-1])
    overridden = {
        override
        for check_level, revision in current.values()
        if check_level == "restricted"
        for override in revision.overrides
    }
    order = sorted(c.id for c in CHECKS if c.level == "baseline")
    order += sorted(c.id for c in CHECKS if c.level == "restricted")
    return [(i, current[i][1].check) for i in order if i in current and i not in overridden]


_VERSION = re.compile(r"^v1\.([0-9]|[1-9][0-9]*)$")  # api/helpers.go L118


def parse_version(text: str) -> Version | None:
    """api/helpers.go L123-L136 (ParseVersion): "latest" or "v1.x"; None if neither."""
    if text == "latest":
        return LATEST
    match = _VERSION.match(text)
    return (1, int(match.group(1))) if match else None


def format_version(version: Version) -> str:
    """api/helpers.go L36-L41 (Version.String)."""
    return "latest" if version == LATEST else f"v{version[0]}.{version[1]}"


def check_pod(
    spec: Mapping[str, Any], metadata: Mapping[str, Any], level: str, version: str = "latest"
) -> list[Violation]:
    """The violations of a pod spec (and its metadata's annotations) at a level and version."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    parsed = parse_version(version)
    if parsed is None:
        raise ValueError(f'version must be "latest" or "v1.x", not {version!r}')
    results = (check(metadata, spec) for _, check in checks_for(level, parsed))
    return [result for result in results if result is not None]


# Namespace policy and the admission's messages.


@dataclass(frozen=True)
class LevelVersion:
    level: str = "privileged"
    version: Version = LATEST

    def __str__(self) -> str:
        # api/helpers.go L143-L145 (LevelVersion.String)
        return f"{self.level}:{format_version(self.version)}"


@dataclass(frozen=True)
class Policy:
    """The three modes; the API server's default configuration is privileged:latest for all."""

    enforce: LevelVersion = LevelVersion()
    audit: LevelVersion = LevelVersion()
    warn: LevelVersion = LevelVersion()


@dataclass(frozen=True)
class LabelError:
    """A label that does not parse: field.Invalid(metadata.labels[KEY], value, detail)."""

    label: str
    value: str
    detail: str

    @property
    def field(self) -> str:
        return f"metadata.labels[{self.label}]"

    @property
    def body(self) -> str:
        """field.Error.ErrorBody for an Invalid string value."""
        return f"Invalid value: {go_quote(self.value)}: {self.detail}"


_STRICTNESS = {"privileged": 0, "baseline": 1, "restricted": 2}


def namespace_policy(labels: Mapping[str, str] | None) -> tuple[Policy, list[LabelError]]:
    """api/helpers.go L181-L237 (PolicyToEvaluate) over the default policy: an unparsable
    enforce level is restricted, audit and warn fail open to privileged, an unparsable version
    is latest; warn follows an explicit enforce level that is stricter, unless set itself."""
    labels = labels or {}
    errors: list[LabelError] = []
    level_detail = f"must be one of {', '.join(LEVELS)}"  # api/helpers.go L99-L106
    version_detail = 'must be "latest" or "v1.x"'

    def level(label: str, invalid: str) -> str | None:
        if label not in labels:
            return None
        if labels[label] in LEVELS:
            return labels[label]
        errors.append(LabelError(label, labels[label], level_detail))
        return invalid

    def version(label: str) -> Version | None:
        if label not in labels:
            return None
        parsed = parse_version(labels[label])
        if parsed is None:
            errors.append(LabelError(label, labels[label], version_detail))
            return LATEST
        return parsed

    enforce_label = labels.get(ENFORCE_LABEL)
    enforce = LevelVersion(
        level(ENFORCE_LABEL, "restricted") or "privileged",
        version(ENFORCE_VERSION_LABEL) or LATEST,
    )
    audit = LevelVersion(
        level(AUDIT_LABEL, "privileged") or "privileged", version(AUDIT_VERSION_LABEL) or LATEST
    )
    warn_level = level(WARN_LABEL, "privileged")
    warn_version = version(WARN_VERSION_LABEL)
    warn = LevelVersion(warn_level or "privileged", warn_version or LATEST)
    valid_enforce = enforce_label in LEVELS
    if (
        warn_level is None
        and valid_enforce
        and _STRICTNESS[enforce.level] > _STRICTNESS[warn.level]
    ):
        warn = LevelVersion(enforce.level, warn_version or enforce.version)
    return Policy(enforce, audit, warn), errors


def _details(violations: Sequence[Violation]) -> str:
    return ", ".join(str(violation) for violation in violations)


def violates_message(policy: LevelVersion, violations: Sequence[Violation]) -> str:
    """admission/admission.go L480-L484: `violates PodSecurity "LEVEL:VERSION": DETAILS`."""
    return f"violates PodSecurity {go_quote(str(policy))}: {_details(violations)}"


def warning_message(policy: LevelVersion, violations: Sequence[Violation]) -> str:
    """admission/admission.go L517-L521: the warning for what the warn level would refuse."""
    return f"would violate PodSecurity {go_quote(str(policy))}: {_details(violations)}"


def forbidden_message(
    resource: str, name: str, policy: LevelVersion, violations: Sequence[Violation]
) -> str:
    """The refusal's message: admission/response.go L52-L57 (forbiddenResponse) wraps the
    admission's error in apimachinery's NewForbidden (`RESOURCE "NAME" is forbidden: ERR`)."""
    return f"{resource} {go_quote(name)} is forbidden: {violates_message(policy, violations)}"


def pod_template(group: str, plural: str, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod template of a pod controller (admission/admission.go L94-L150, the default
    PodSpecExtractor); None for a resource without one, or an object that holds none."""
    spec = body.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    if (group, plural) == ("", "podtemplates"):
        template = body.get("template")
    elif (group, plural) in POD_CONTROLLERS:
        template = spec.get("template")
    elif (group, plural) == ("batch", "cronjobs"):
        job = spec.get("jobTemplate")
        job_spec = job.get("spec") if isinstance(job, Mapping) else None
        template = job_spec.get("template") if isinstance(job_spec, Mapping) else None
    else:
        return None
    return template if isinstance(template, Mapping) else None


# admission/admission.go L94-L104 (defaultPodSpecResources), less pods, podtemplates and
# cronjobs, whose templates sit elsewhere
POD_CONTROLLERS = frozenset(
    {
        ("", "replicationcontrollers"),
        ("apps", "replicasets"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("batch", "jobs"),
    }
)
POD_SPEC_RESOURCES = POD_CONTROLLERS | {("", "pods"), ("", "podtemplates"), ("batch", "cronjobs")}
