"""The Pod Security Standards' checks (`localstack.pod_security`) against the library's own cases.

Three layers: each check on the cases of its upstream unit test (kubernetes/pod-security-admission
v0.36.2 policy/check_*_test.go, the same pods in JSON and the same expected reason and detail);
whole levels (`check_pod`) on a pod that meets `restricted`, with each rule broken on its own; and
the namespace labels, the refusal's wording and the emulator's admission decisions
(`localstack.emulator.podsecurity`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from kmock import KubernetesError

from localstack import pod_security as ps
from localstack.emulator.podsecurity import admit

Spec = dict[str, Any]


def ctr(name: str, **security: Any) -> dict[str, Any]:
    """A container named `name`, with a securityContext when fields are given."""
    container: dict[str, Any] = {"name": name, "image": "registry.example/img:1"}
    if security:
        container["securityContext"] = security
    return container


def pod_sc(**security: Any) -> dict[str, Any]:
    return {"securityContext": security}


# Upstream unit-test cases: (check, spec, metadata, reason, detail); reason None = allowed.
Case = tuple[ps.CheckFn, Spec, Mapping[str, Any], str | None, str]

UPSTREAM: dict[str, Case] = {
    # check_allowPrivilegeEscalation_test.go
    "allowPrivilegeEscalation multiple containers": (
        ps.allow_privilege_escalation_1_25,
        {
            "containers": [
                ctr("a"),
                {"name": "b", "securityContext": {}},
                ctr("c", allowPrivilegeEscalation=True),
                ctr("d", allowPrivilegeEscalation=False),
            ]
        },
        {},
        "allowPrivilegeEscalation != false",
        'containers "a", "b", "c" must set securityContext.allowPrivilegeEscalation=false',
    ),
    "allowPrivilegeEscalation windows pod": (
        ps.allow_privilege_escalation_1_25,
        {"os": {"name": "windows"}, "containers": [ctr("a")]},
        {},
        None,
        "",
    ),
    "allowPrivilegeEscalation linux pod": (
        ps.allow_privilege_escalation_1_25,
        {"os": {"name": "linux"}, "containers": [ctr("a")]},
        {},
        "allowPrivilegeEscalation != false",
        'container "a" must set securityContext.allowPrivilegeEscalation=false',
    ),
    # check_appArmorProfile_test.go
    "appArmor unconfined pod": (
        ps.app_armor_profile,
        pod_sc(appArmorProfile={"type": "Unconfined"}),
        {},
        "forbidden AppArmor profile",
        'pod must not set AppArmor profile type to "Unconfined"',
    ),
    "appArmor unconfined container": (
        ps.app_armor_profile,
        {
            **pod_sc(appArmorProfile={"type": "RuntimeDefault"}),
            "containers": [ctr("foo", appArmorProfile={"type": "Unconfined"})],
        },
        {},
        "forbidden AppArmor profile",
        'container "foo" must not set AppArmor profile type to "Unconfined"',
    ),
    "appArmor unconfined init container": (
        ps.app_armor_profile,
        {
            **pod_sc(appArmorProfile={"type": "RuntimeDefault"}),
            "containers": [ctr("foo")],
            "initContainers": [ctr("bar", appArmorProfile={"type": "Unconfined"})],
        },
        {},
        "forbidden AppArmor profile",
        'container "bar" must not set AppArmor profile type to "Unconfined"',
    ),
    "appArmor annotations": (
        ps.app_armor_profile,
        {},
        {
            "annotations": {
                "container.apparmor.security.beta.kubernetes.io/": "bogus",
                "container.apparmor.security.beta.kubernetes.io/a": "",
                "container.apparmor.security.beta.kubernetes.io/b": "runtime/default",
                "container.apparmor.security.beta.kubernetes.io/c": "localhost/",
                "container.apparmor.security.beta.kubernetes.io/d": "localhost/foo",
                "container.apparmor.security.beta.kubernetes.io/e": "unconfined",
                "container.apparmor.security.beta.kubernetes.io/f": "unknown",
            }
        },
        "forbidden AppArmor profiles",
        "annotations must not set AppArmor profile type to "
        + ", ".join(
            [
                '"container.apparmor.security.beta.kubernetes.io/="bogus""',
                '"container.apparmor.security.beta.kubernetes.io/e="unconfined""',
                '"container.apparmor.security.beta.kubernetes.io/f="unknown""',
            ]
        ),
    ),
    # check_capabilities_baseline_test.go
    "capabilities baseline multiple containers": (
        ps.capabilities_baseline,
        {
            "containers": [
                ctr("a", capabilities={"add": ["FOO", "BAR"]}),
                ctr("b", capabilities={"add": ["BAR", "BAZ"]}),
            ]
        },
        {},
        "non-default capabilities",
        'containers "a", "b" must not include "BAR", "BAZ", "FOO" in'
        " securityContext.capabilities.add",
    ),
    # check_capabilities_restricted_test.go
    "capabilities restricted multiple containers": (
        ps.capabilities_restricted_1_25,
        {
            "containers": [
                ctr("a", capabilities={"add": ["FOO", "BAR"]}),
                ctr("b", capabilities={"add": ["BAR", "BAZ"]}),
                ctr(
                    "c", capabilities={"add": ["NET_BIND_SERVICE", "CHOWN"], "drop": ["ALL", "FOO"]}
                ),
            ]
        },
        {},
        "unrestricted capabilities",
        'containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; containers "a",'
        ' "b", "c" must not include "BAR", "BAZ", "CHOWN", "FOO" in'
        " securityContext.capabilities.add",
    ),
    "capabilities restricted windows pod": (
        ps.capabilities_restricted_1_25,
        {"os": {"name": "windows"}, "containers": [ctr("a")]},
        {},
        None,
        "",
    ),
    "capabilities restricted linux pod": (
        ps.capabilities_restricted_1_25,
        {"os": {"name": "linux"}, "containers": [ctr("a")]},
        {},
        "unrestricted capabilities",
        'container "a" must set securityContext.capabilities.drop=["ALL"]',
    ),
    # check_hostNamespaces_test.go
    "host namespaces": (
        ps.host_namespaces,
        {"hostNetwork": True, "hostIPC": True, "hostPID": True},
        {},
        "host namespaces",
        "hostNetwork=true, hostPID=true, hostIPC=true",
    ),
    # check_hostPathVolumes_test.go
    "hostPath volumes": (
        ps.host_path_volumes,
        {
            "volumes": [
                {"name": "a", "hostPath": {}},
                {"name": "b", "hostPath": {}},
                {"name": "c", "emptyDir": {}},
            ]
        },
        {},
        "hostPath volumes",
        'volumes "a", "b"',
    ),
    # check_hostPorts_test.go
    "hostPorts one": (
        ps.host_ports,
        {
            "containers": [
                {"name": "a", "ports": [{"hostPort": 0}]},
                {"name": "b", "ports": [{"hostPort": 0}, {"hostPort": 20}]},
            ]
        },
        {},
        "hostPort",
        'container "b" uses hostPort 20',
    ),
    "hostPorts several": (
        ps.host_ports,
        {
            "containers": [
                {"name": "a", "ports": [{"hostPort": 0}]},
                {"name": "b", "ports": [{"hostPort": 0}, {"hostPort": 10}, {"hostPort": 20}]},
                {"name": "c", "ports": [{"hostPort": 0}, {"hostPort": 10}, {"hostPort": 30}]},
            ]
        },
        {},
        "hostPort",
        'containers "b", "c" use hostPorts 10, 20, 30',
    ),
    # check_hostProbesAndhostLifecycle_test.go
    "probe hosts unset": (
        ps.host_probes_and_lifecycle,
        {
            "containers": [
                {
                    "name": "a",
                    "livenessProbe": {"httpGet": {"port": 80}},
                    "readinessProbe": {"tcpSocket": {"port": 80}},
                    "lifecycle": {"postStart": {"httpGet": {"port": 80}}},
                }
            ]
        },
        {},
        None,
        "",
    ),
    "probe hosts local": (
        ps.host_probes_and_lifecycle,
        {
            "containers": [
                {
                    "name": "a",
                    "livenessProbe": {"httpGet": {"host": "127.0.0.1"}},
                    "readinessProbe": {"tcpSocket": {"host": "::1"}},
                    "startupProbe": {"httpGet": {"host": "localhost"}},
                }
            ]
        },
        {},
        "probe or lifecycle host",
        'container "a" uses probe or lifecycle hosts "127.0.0.1", "::1", "localhost"',
    ),
    "lifecycle host": (
        ps.host_probes_and_lifecycle,
        {"containers": [{"name": "b", "lifecycle": {"preStop": {"tcpSocket": {"host": "h"}}}}]},
        {},
        "probe or lifecycle host",
        'container "b" uses probe or lifecycle host "h"',
    ),
    # check_privileged_test.go
    "privileged": (
        ps.privileged,
        {
            "containers": [
                ctr("a"),
                {"name": "b", "securityContext": {}},
                ctr("c", privileged=False),
                ctr("d", privileged=True),
                ctr("e", privileged=True),
            ]
        },
        {},
        "privileged",
        'containers "d", "e" must not set securityContext.privileged=true',
    ),
    # check_procMount_baseline_test.go, check_procMount_restricted_test.go
    "procMount baseline": (
        ps.proc_mount_1_35_baseline,
        {
            "hostUsers": True,
            "containers": [
                ctr("a"),
                {"name": "b", "securityContext": {}},
                ctr("c", procMount="Default"),
                ctr("d", procMount="Unmasked"),
                ctr("e", procMount="other"),
            ],
        },
        {},
        "procMount",
        'containers "d", "e" must not set securityContext.procMount to "Unmasked", "other"',
    ),
    "procMount baseline user namespace": (
        ps.proc_mount_1_35_baseline,
        {"hostUsers": False, "containers": [ctr("d", procMount="Unmasked")]},
        {},
        None,
        "",
    ),
    "procMount restricted user namespace": (
        ps.proc_mount,
        {"hostUsers": False, "containers": [ctr("d", procMount="Unmasked")]},
        {},
        "procMount",
        'container "d" must not set securityContext.procMount to "Unmasked"',
    ),
    # check_restrictedVolumes_test.go
    "restricted volumes": (
        ps.restricted_volumes,
        {
            "volumes": [
                *(
                    {"name": f"a{i}", source: {}}
                    for i, source in enumerate(ps.ALLOWED_VOLUME_SOURCES, 1)
                ),
                *(
                    {"name": f"b{i}", source: {}}
                    for i, source in enumerate(ps.RESTRICTED_VOLUME_SOURCES, 1)
                ),
                {"name": "c1"},
            ]
        },
        {},
        "restricted volume types",
        "volumes "
        + ", ".join(f'"b{i}"' for i in range(1, 22))
        + ', "c1" use restricted volume types "awsElasticBlockStore", "azureDisk", "azureFile",'
        ' "cephfs", "cinder", "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo",'
        ' "glusterfs", "hostPath", "iscsi", "nfs", "photonPersistentDisk", "portworxVolume",'
        ' "quobyte", "rbd", "scaleIO", "storageos", "unknown", "vsphereVolume"',
    ),
    # check_runAsNonRoot_test.go
    "runAsNonRoot none": (
        ps.run_as_non_root_1_35,
        {"containers": [ctr("a")]},
        {},
        "runAsNonRoot != true",
        'pod or container "a" must set securityContext.runAsNonRoot=true',
    ),
    "runAsNonRoot pod false": (
        ps.run_as_non_root_1_35,
        {**pod_sc(runAsNonRoot=False), "containers": [ctr("a")]},
        {},
        "runAsNonRoot != true",
        "pod must not set securityContext.runAsNonRoot=false",
    ),
    "runAsNonRoot containers false": (
        ps.run_as_non_root_1_35,
        {
            **pod_sc(runAsNonRoot=True),
            "containers": [
                ctr("a"),
                {"name": "b", "securityContext": {}},
                ctr("c", runAsNonRoot=False),
                ctr("d", runAsNonRoot=False),
                ctr("e", runAsNonRoot=True),
                ctr("f", runAsNonRoot=True),
            ],
        },
        {},
        "runAsNonRoot != true",
        'containers "c", "d" must not set securityContext.runAsNonRoot=false',
    ),
    "runAsNonRoot container fallthrough": (
        ps.run_as_non_root_1_35,
        {
            "containers": [
                ctr("a"),
                {"name": "b", "securityContext": {}},
                ctr("d", runAsNonRoot=True),
                ctr("e", runAsNonRoot=True),
            ]
        },
        {},
        "runAsNonRoot != true",
        'pod or containers "a", "b" must set securityContext.runAsNonRoot=true',
    ),
    "runAsNonRoot user namespace": (
        ps.run_as_non_root_1_35,
        {"hostUsers": False, "containers": [ctr("a")]},
        {},
        None,
        "",
    ),
    # check_runAsUser_test.go
    "runAsUser pod 0": (
        ps.run_as_user_1_35,
        {**pod_sc(runAsUser=0), "containers": [ctr("a")]},
        {},
        "runAsUser=0",
        "pod must not set runAsUser=0",
    ),
    "runAsUser pod non-zero": (
        ps.run_as_user_1_35,
        {**pod_sc(runAsUser=1000), "containers": [ctr("a")]},
        {},
        None,
        "",
    ),
    "runAsUser containers 0": (
        ps.run_as_user_1_35,
        {
            **pod_sc(runAsUser=1000),
            "containers": [
                ctr("a"),
                {"name": "b", "securityContext": {}},
                ctr("c", runAsUser=0),
                ctr("d", runAsUser=0),
                ctr("e", runAsUser=1),
                ctr("f", runAsUser=1),
            ],
        },
        {},
        "runAsUser=0",
        'containers "c", "d" must not set runAsUser=0',
    ),
    "runAsUser user namespace": (
        ps.run_as_user_1_35,
        {"hostUsers": False, **pod_sc(runAsUser=0)},
        {},
        None,
        "",
    ),
    # check_seLinuxOptions_test.go
    "seLinux pod and containers": (
        ps.se_linux_options_1_31,
        {
            **pod_sc(seLinuxOptions={"type": "foo", "user": "bar", "role": "baz"}),
            "containers": [
                ctr("a", seLinuxOptions={"type": "container_t"}),
                ctr("b", seLinuxOptions={"type": "container_init_t"}),
                ctr("c", seLinuxOptions={"type": "container_kvm_t"}),
                ctr("d", seLinuxOptions={"type": "container_engine_t"}),
                ctr("e", seLinuxOptions={"type": "bar"}),
                ctr("f", seLinuxOptions={"user": "bar"}),
                ctr("g", seLinuxOptions={"role": "baz"}),
            ],
        },
        {},
        "seLinuxOptions",
        'pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: types'
        ' "bar", "foo"; user may not be set; role may not be set',
    ),
    "seLinux bad type": (
        ps.se_linux_options_1_31,
        pod_sc(seLinuxOptions={"type": "bad"}),
        {},
        "seLinuxOptions",
        'pod set forbidden securityContext.seLinuxOptions: type "bad"',
    ),
    "seLinux bad role": (
        ps.se_linux_options_1_31,
        pod_sc(seLinuxOptions={"role": "bad"}),
        {},
        "seLinuxOptions",
        "pod set forbidden securityContext.seLinuxOptions: role may not be set",
    ),
    # check_seccompProfile_baseline_test.go
    "seccomp annotations": (
        ps.seccomp_baseline_1_0,
        {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
        {
            "annotations": {
                "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
                "container.seccomp.security.alpha.kubernetes.io/a": "unconfined",
                "container.seccomp.security.alpha.kubernetes.io/b": "unknown",
            }
        },
        "seccompProfile",
        'forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined",'
        ' container.seccomp.security.alpha.kubernetes.io/b="unknown",'
        ' seccomp.security.alpha.kubernetes.io/pod="unconfined"',
    ),
    "seccomp baseline pod and containers": (
        ps.seccomp_baseline_1_19,
        {
            **pod_sc(seccompProfile={"type": "Unconfined"}),
            "containers": [
                ctr("a"),
                {"name": "b", "securityContext": {}},
                ctr("c", seccompProfile={"type": "Unconfined"}),
                ctr("d", seccompProfile={"type": "Unconfined"}),
                ctr("e", seccompProfile={"type": "RuntimeDefault"}),
            ],
        },
        {},
        "seccompProfile",
        'pod and containers "c", "d" must not set securityContext.seccompProfile.type to'
        ' "Unconfined"',
    ),
    # check_seccompProfile_restricted_test.go
    "seccomp restricted none": (
        ps.seccomp_restricted_1_25,
        {"containers": [ctr("a")]},
        {},
        "seccompProfile",
        'pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault"'
        ' or "Localhost"',
    ),
    "seccomp restricted windows": (
        ps.seccomp_restricted_1_25,
        {"os": {"name": "windows"}, "containers": [ctr("a")]},
        {},
        None,
        "",
    ),
    "seccomp restricted containers invalid": (
        ps.seccomp_restricted_1_25,
        {
            **pod_sc(seccompProfile={"type": "RuntimeDefault"}),
            "containers": [
                ctr("a"),
                ctr("c", seccompProfile={"type": "Unconfined"}),
                ctr("d", seccompProfile={"type": "Unconfined"}),
                ctr("e", seccompProfile={"type": "RuntimeDefault"}),
            ],
        },
        {},
        "seccompProfile",
        'containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined"',
    ),
    "seccomp restricted container fallthrough": (
        ps.seccomp_restricted_1_25,
        {
            "containers": [
                ctr("a"),
                {"name": "b", "securityContext": {}},
                ctr("d", seccompProfile={"type": "RuntimeDefault"}),
                ctr("e", seccompProfile={"type": "Localhost", "localhostProfile": "p.json"}),
            ]
        },
        {},
        "seccompProfile",
        'pod or containers "a", "b" must set securityContext.seccompProfile.type to'
        ' "RuntimeDefault" or "Localhost"',
    ),
    # check_sysctls_test.go
    "sysctls forbidden": (
        ps.sysctls_1_32,
        pod_sc(sysctls=[{"name": "a"}, {"name": "b"}]),
        {},
        "forbidden sysctls",
        "a, b",
    ),
    "sysctls 1.32": (
        ps.sysctls_1_32,
        pod_sc(sysctls=[{"name": "net.ipv4.tcp_wmem", "value": "4096 65536 16777216"}]),
        {},
        None,
        "",
    ),
    "sysctls 1.29 without tcp_rmem": (
        ps.sysctls_1_29,
        pod_sc(sysctls=[{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 16777216"}]),
        {},
        "forbidden sysctls",
        "net.ipv4.tcp_rmem",
    ),
    # check_windowsHostProcess_test.go
    "hostProcess": (
        ps.windows_host_process,
        {
            **pod_sc(windowsOptions={"hostProcess": True}),
            "containers": [
                ctr("a"),
                {"name": "b", "securityContext": {}},
                ctr("c", windowsOptions={}),
                ctr("d", windowsOptions={"hostProcess": False}),
                ctr("e", windowsOptions={"hostProcess": True}),
                ctr("f", windowsOptions={"hostProcess": True}),
            ],
        },
        {},
        "hostProcess",
        'pod and containers "e", "f" must not set securityContext.windowsOptions.hostProcess=true',
    ),
}


@pytest.mark.parametrize("case", UPSTREAM.values(), ids=UPSTREAM.keys())
def test_check_matches_the_upstream_case(case: Case) -> None:
    check, spec, metadata, reason, detail = case
    result = check(metadata, spec)
    if reason is None:
        assert result is None
    else:
        assert result == ps.Violation(reason, detail)


# Whole levels, from a pod that meets `restricted`.


def restricted_pod() -> Spec:
    """A pod spec that meets restricted: pod-level runAsNonRoot and seccomp, every container
    (init and ephemeral too) dropping ALL and refusing privilege escalation."""
    hardened = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [ctr("init", **copy.deepcopy(hardened))],
        "containers": [ctr("main", **copy.deepcopy(hardened))],
        "ephemeralContainers": [ctr("debug", **copy.deepcopy(hardened))],
        "volumes": [
            {"name": "tmp", "emptyDir": {}},
            {"name": "token", "projected": {"sources": []}},
            {"name": "config", "configMap": {"name": "c"}},
        ],
    }


def test_restricted_pod_meets_both_levels() -> None:
    assert ps.check_pod(restricted_pod(), {}, "restricted") == []
    assert ps.check_pod(restricted_pod(), {}, "baseline") == []


def _set(spec: Spec, path: str, value: Any) -> None:
    """Set a dotted path; a list index selects an item (`containers.0.securityContext.x`)."""
    *steps, last = path.split(".")
    node: Any = spec
    for step in steps:
        node = node[int(step)] if isinstance(node, list) else node.setdefault(step, {})
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value


MAIN = "containers.0.securityContext"
INIT = "initContainers.0.securityContext"
DEBUG = "ephemeralContainers.0.securityContext"

# One change to the restricted pod; the single violation restricted reports, and whether
# baseline reports it too (baseline allows what only restricted forbids).
BROKEN: dict[str, tuple[dict[str, Any], str, bool]] = {
    "hostNetwork": (
        {"hostNetwork": True},
        "host namespaces (hostNetwork=true)",
        True,
    ),
    "hostPID and hostIPC": (
        {"hostPID": True, "hostIPC": True},
        "host namespaces (hostPID=true, hostIPC=true)",
        True,
    ),
    "privileged init container": (
        {f"{INIT}.privileged": True},
        'privileged (container "init" must not set securityContext.privileged=true)',
        True,
    ),
    "baseline-forbidden capability": (
        {f"{MAIN}.capabilities.add": ["SYS_ADMIN"]},
        'unrestricted capabilities (container "main" must not include "SYS_ADMIN" in'
        " securityContext.capabilities.add)",
        True,
    ),
    "default capability beyond NET_BIND_SERVICE": (
        {f"{MAIN}.capabilities.add": ["CHOWN"]},
        'unrestricted capabilities (container "main" must not include "CHOWN" in'
        " securityContext.capabilities.add)",
        False,
    ),
    "no drop ALL in the ephemeral container": (
        {f"{DEBUG}.capabilities.drop": ["NET_RAW"]},
        'unrestricted capabilities (container "debug" must set'
        ' securityContext.capabilities.drop=["ALL"])',
        False,
    ),
    "hostPath volume": (
        {"volumes.0": {"name": "root", "hostPath": {"path": "/"}}},
        'restricted volume types (volume "root" uses restricted volume type "hostPath")',
        True,
    ),
    "nfs volume": (
        {"volumes.0": {"name": "share", "nfs": {"server": "s", "path": "/"}}},
        'restricted volume types (volume "share" uses restricted volume type "nfs")',
        False,
    ),
    "hostPort": (
        {"containers.0.ports": [{"containerPort": 80, "hostPort": 8080}]},
        'hostPort (container "main" uses hostPort 8080)',
        True,
    ),
    "probe host": (
        {"containers.0.readinessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}},
        'probe or lifecycle host (container "main" uses probe or lifecycle host "10.0.0.1")',
        True,
    ),
    "AppArmor unconfined": (
        {f"{MAIN}.appArmorProfile": {"type": "Unconfined"}},
        'forbidden AppArmor profile (container "main" must not set AppArmor profile type to'
        ' "Unconfined")',
        True,
    ),
    "SELinux user": (
        {"securityContext.seLinuxOptions": {"user": "system_u"}},
        "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: user may not be set)",
        True,
    ),
    "procMount Unmasked": (
        {f"{MAIN}.procMount": "Unmasked"},
        'procMount (container "main" must not set securityContext.procMount to "Unmasked")',
        True,
    ),
    "seccomp Unconfined in a container": (
        {f"{MAIN}.seccompProfile": {"type": "Unconfined"}},
        'seccompProfile (container "main" must not set securityContext.seccompProfile.type to'
        ' "Unconfined")',
        True,
    ),
    "no seccomp profile anywhere": (
        {"securityContext.seccompProfile": None},
        'seccompProfile (pod or containers "init", "main", "debug" must set'
        ' securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
        False,
    ),
    "unsafe sysctl": (
        {"securityContext.sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
        "forbidden sysctls (kernel.msgmax)",
        True,
    ),
    "allowPrivilegeEscalation unset": (
        {f"{MAIN}.allowPrivilegeEscalation": None},
        'allowPrivilegeEscalation != false (container "main" must set'
        " securityContext.allowPrivilegeEscalation=false)",
        False,
    ),
    "allowPrivilegeEscalation true in the init container": (
        {f"{INIT}.allowPrivilegeEscalation": True},
        'allowPrivilegeEscalation != false (container "init" must set'
        " securityContext.allowPrivilegeEscalation=false)",
        False,
    ),
    "runAsNonRoot nowhere": (
        {"securityContext.runAsNonRoot": None},
        'runAsNonRoot != true (pod or containers "init", "main", "debug" must set'
        " securityContext.runAsNonRoot=true)",
        False,
    ),
    "container runAsNonRoot false under pod true": (
        {f"{MAIN}.runAsNonRoot": False},
        'runAsNonRoot != true (container "main" must not set securityContext.runAsNonRoot=false)',
        False,
    ),
    "runAsUser 0": (
        {f"{MAIN}.runAsUser": 0},
        'runAsUser=0 (container "main" must not set runAsUser=0)',
        False,
    ),
    "hostProcess": (
        {"securityContext.windowsOptions": {"hostProcess": True}},
        "hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)",
        True,
    ),
}


@pytest.mark.parametrize("change,message,baseline_too", BROKEN.values(), ids=BROKEN.keys())
def test_each_rule_broken_alone_is_reported(
    change: dict[str, Any], message: str, baseline_too: bool
) -> None:
    spec = restricted_pod()
    for path, value in change.items():
        _set(spec, path, value)
    assert [str(v) for v in ps.check_pod(spec, {}, "restricted")] == [message]
    baseline = [str(v) for v in ps.check_pod(spec, {}, "baseline")]
    if baseline_too:
        # Baseline words some rules its own way (capabilities, hostPath, seccomp).
        assert len(baseline) == 1
    else:
        assert baseline == []


def test_baseline_words_its_own_versions_of_overridden_checks() -> None:
    spec = restricted_pod()
    _set(spec, f"{MAIN}.capabilities.add", ["SYS_ADMIN"])
    _set(spec, "volumes.0", {"name": "root", "hostPath": {"path": "/"}})
    assert [str(v) for v in ps.check_pod(spec, {}, "baseline")] == [
        'non-default capabilities (container "main" must not include "SYS_ADMIN" in'
        " securityContext.capabilities.add)",
        'hostPath volumes (volume "root")',
    ]


def test_container_level_settings_satisfy_restricted_without_pod_level() -> None:
    spec = restricted_pod()
    del spec["securityContext"]
    for path in (MAIN, INIT, DEBUG):
        _set(spec, f"{path}.runAsNonRoot", True)
        _set(spec, f"{path}.seccompProfile", {"type": "Localhost", "localhostProfile": "p"})
    assert ps.check_pod(spec, {}, "restricted") == []


def test_pod_level_runs_as_non_root_for_containers_without_their_own() -> None:
    spec = restricted_pod()
    _set(spec, f"{MAIN}.runAsNonRoot", True)  # explicit true agrees with the pod's
    assert ps.check_pod(spec, {}, "restricted") == []


def test_net_bind_service_is_the_one_capability_restricted_adds() -> None:
    spec = restricted_pod()
    _set(spec, f"{MAIN}.capabilities.add", ["NET_BIND_SERVICE"])
    assert ps.check_pod(spec, {}, "restricted") == []


def test_violations_come_baseline_first_then_restricted_each_by_check_id() -> None:
    spec = {"hostNetwork": True, "containers": [{"name": "a", "image": "i"}]}
    _set(spec, "volumes", [{"name": "h", "hostPath": {"path": "/"}}])
    reasons = [v.reason for v in ps.check_pod(spec, {}, "restricted")]
    assert reasons == [
        "host namespaces",
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
        "restricted volume types",
        "runAsNonRoot != true",
        "seccompProfile",
    ]


def test_user_namespace_relaxes_root_and_proc_mount_from_v1_35() -> None:
    spec = restricted_pod()
    spec["hostUsers"] = False
    _set(spec, f"{MAIN}.runAsUser", 0)
    _set(spec, f"{MAIN}.runAsNonRoot", False)
    _set(spec, f"{MAIN}.procMount", "Unmasked")
    assert [v.reason for v in ps.check_pod(spec, {}, "restricted")] == ["procMount"]
    assert ps.check_pod(spec, {}, "baseline") == []
    assert [v.reason for v in ps.check_pod(spec, {}, "restricted", "v1.34")] == [
        "procMount",
        "runAsNonRoot != true",
        "runAsUser=0",
    ]


def test_versions_select_each_checks_revision() -> None:
    spec = restricted_pod()
    _set(spec, "securityContext.sysctls", [{"name": "net.ipv4.tcp_rmem", "value": "1 2 3"}])
    assert ps.check_pod(spec, {}, "baseline", "v1.31") == [
        ps.Violation("forbidden sysctls", "net.ipv4.tcp_rmem")
    ]
    assert ps.check_pod(spec, {}, "baseline", "v1.32") == []
    assert ps.check_pod(spec, {}, "baseline", "v1.99") == []  # newer than any: the newest
    # Before 1.22, restricted checked capabilities as baseline does: no drop ALL needed.
    bare = {"containers": [{"name": "a", "image": "i"}]}
    assert "unrestricted capabilities" not in [
        v.reason for v in ps.check_pod(bare, {}, "restricted", "v1.21")
    ]


def test_privileged_allows_everything_and_bad_arguments_raise() -> None:
    assert ps.check_pod({"hostPID": True}, {}, "privileged") == []
    with pytest.raises(ValueError, match="level"):
        ps.check_pod({}, {}, "strict")
    with pytest.raises(ValueError, match="version"):
        ps.check_pod({}, {}, "baseline", "1.30")


# Namespace labels and the refusal.


def test_namespace_policy_resolves_labels_as_policy_to_evaluate() -> None:
    policy, errors = ps.namespace_policy({ps.ENFORCE_LABEL: "restricted"})
    assert errors == []
    assert str(policy.enforce) == str(policy.warn) == "restricted:latest"
    assert str(policy.audit) == "privileged:latest"

    policy, _ = ps.namespace_policy(
        {
            ps.ENFORCE_LABEL: "baseline",
            ps.ENFORCE_VERSION_LABEL: "v1.30",
            ps.WARN_LABEL: "restricted",
        }
    )
    assert (str(policy.enforce), str(policy.warn)) == ("baseline:v1.30", "restricted:latest")

    policy, errors = ps.namespace_policy(
        {ps.ENFORCE_LABEL: "strict", ps.WARN_LABEL: "loud", ps.ENFORCE_VERSION_LABEL: "1.30"}
    )
    assert (str(policy.enforce), str(policy.warn)) == ("restricted:latest", "privileged:latest")
    assert [(e.field, e.body) for e in errors] == [
        (
            "metadata.labels[pod-security.kubernetes.io/enforce]",
            'Invalid value: "strict": must be one of privileged, baseline, restricted',
        ),
        (
            "metadata.labels[pod-security.kubernetes.io/enforce-version]",
            'Invalid value: "1.30": must be "latest" or "v1.x"',
        ),
        (
            "metadata.labels[pod-security.kubernetes.io/warn]",
            'Invalid value: "loud": must be one of privileged, baseline, restricted',
        ),
    ]
    assert ps.namespace_policy(None) == (ps.Policy(), [])


def test_forbidden_message_is_worded_as_the_api_servers() -> None:
    violations = [
        ps.Violation("allowPrivilegeEscalation != false", 'container "x" must set ...'),
        ps.Violation("forbidden sysctls", ""),
    ]
    assert ps.forbidden_message("pods", "p", ps.LevelVersion("restricted"), violations) == (
        'pods "p" is forbidden: violates PodSecurity "restricted:latest":'
        ' allowPrivilegeEscalation != false (container "x" must set ...), forbidden sysctls'
    )


# The emulator's admission decisions.

RESTRICTED = {ps.ENFORCE_LABEL: "restricted"}


def no_pods(namespace: str) -> list[dict[str, Any]]:
    return []


def pod(name: str, spec: Spec) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": spec}


def test_emulator_refuses_a_violating_pod_with_the_status_of_the_plugin() -> None:
    bad = pod("p", {"containers": [{"name": "c", "image": "i"}]})
    with pytest.raises(KubernetesError) as caught:
        admit("", "pods", None, bad, None, RESTRICTED, no_pods)
    error = caught.value
    assert (error.status, error.reason) == (403, "Forbidden")
    assert error.details == {"name": "p", "kind": "pods"}
    expected = ps.forbidden_message(
        "pods", "p", ps.LevelVersion("restricted"), ps.check_pod(bad["spec"], {}, "restricted")
    )
    assert error.message == expected
    assert admit("", "pods", None, pod("p", restricted_pod()), None, RESTRICTED, no_pods) == ()


def test_emulator_checks_pods_only_where_a_label_asks() -> None:
    bad = pod("p", {"hostPID": True, "containers": [{"name": "c", "image": "i"}]})
    assert admit("", "pods", None, bad, None, None, no_pods) == ()
    assert admit("", "pods", None, bad, None, {"team": "a"}, no_pods) == ()
    # Enforce baseline, warn restricted: admitted with a warning.
    ok = pod("p", {"containers": [{"name": "c", "image": "i"}]})
    labels = {ps.ENFORCE_LABEL: "baseline", ps.WARN_LABEL: "restricted"}
    (warning,) = admit("", "pods", None, ok, None, labels, no_pods)
    assert warning.startswith('would violate PodSecurity "restricted:latest": ')


def test_emulator_warns_about_pod_controllers_but_admits_them() -> None:
    template = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}
    job = {"metadata": {"name": "j"}, "spec": {"template": template}}
    (warning,) = admit("batch", "jobs", None, job, None, RESTRICTED, no_pods)
    assert warning.startswith('would violate PodSecurity "restricted:latest": ')
    cron = {"metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": template}}}}
    assert admit("batch", "cronjobs", None, cron, None, RESTRICTED, no_pods) == (warning,)
    assert admit("batch", "jobs", "status", job, job, RESTRICTED, no_pods) == ()
    assert admit("", "configmaps", None, {"metadata": {}}, None, RESTRICTED, no_pods) == ()
    compliant = {"metadata": {"name": "j"}, "spec": {"template": {"spec": restricted_pod()}}}
    assert admit("apps", "deployments", None, compliant, None, RESTRICTED, no_pods) == ()


def test_emulator_checks_pod_updates_only_when_images_or_containers_change() -> None:
    bad = pod("p", {"containers": [{"name": "c", "image": "i"}]})
    relabelled = copy.deepcopy(bad)
    relabelled["metadata"]["labels"] = {"x": "y"}
    assert admit("", "pods", None, relabelled, bad, RESTRICTED, no_pods) == ()
    assert admit("", "pods", "status", bad, bad, RESTRICTED, no_pods) == ()
    new_image = copy.deepcopy(bad)
    new_image["spec"]["containers"][0]["image"] = "j"
    with pytest.raises(KubernetesError):
        admit("", "pods", None, new_image, bad, RESTRICTED, no_pods)
    debugged = copy.deepcopy(bad)
    debugged["spec"]["ephemeralContainers"] = [{"name": "d", "image": "busybox"}]
    with pytest.raises(KubernetesError):
        admit("", "pods", "ephemeralcontainers", debugged, bad, RESTRICTED, no_pods)


def test_emulator_refuses_namespaces_with_labels_that_do_not_parse() -> None:
    namespace = {"metadata": {"name": "n", "labels": {ps.ENFORCE_LABEL: "strict"}}}
    with pytest.raises(KubernetesError) as caught:
        admit("", "namespaces", None, namespace, None, None, no_pods)
    assert caught.value.status == 422
    assert caught.value.message == (
        'Namespace "n" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid'
        ' value: "strict": must be one of privileged, baseline, restricted'
    )
    # An update that leaves the same bad label alone is admitted.
    assert admit("", "namespaces", None, namespace, namespace, None, no_pods) == ()


def test_emulator_warns_about_existing_pods_when_enforce_gets_stricter() -> None:
    old = {"metadata": {"name": "n", "labels": {}}}
    new = {"metadata": {"name": "n", "labels": {ps.ENFORCE_LABEL: "baseline"}}}
    pods = [
        pod("b", {"hostPID": True, "containers": []}),
        pod("a", {"hostPID": True, "containers": []}),
        pod("c", {"containers": [{"name": "x", "securityContext": {"privileged": True}}]}),
        pod("d", restricted_pod()),
    ]

    def pods_of(namespace: str) -> list[dict[str, Any]]:
        assert namespace == "n"
        return pods

    assert admit("", "namespaces", None, new, old, None, pods_of) == (
        'existing pods in namespace "n" violate the new PodSecurity enforce level'
        ' "baseline:latest"',
        "a (and 1 other pod): host namespaces",
        "c: privileged",
    )
    assert admit("", "namespaces", None, old, new, None, pods_of) == ()  # relaxed
    assert admit("", "namespaces", None, new, None, None, pods_of) == ()  # a create


def test_go_quote_escapes_as_strconv_quote() -> None:
    assert ps.go_quote('a"b\\c\n\x01é\u2028') == '"a\\"b\\\\c\\n\\x01é\\u2028"'
