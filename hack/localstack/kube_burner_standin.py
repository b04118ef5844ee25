"""A stand-in for kube-burner-ocp v1.7.3 (and kube-burner v1.17.2's ``init``) for tests (I/O).

Run as the binary would be::

    python -m localstack.kube_burner_standin kube-burner-ocp cluster-density-v2 --iterations=9 ...
    python -m localstack.kube_burner_standin kube-burner init --config=/etc/kube-burner/config.yml

(the simulated Job puts ``kube-burner-ocp`` and ``kube-burner`` wrapper scripts on the PATH that
do this), or in-process with ``main(argv, env, workdir)``, argv[0] being the binary's name.

It behaves as the real binary does by the contract (``perftest_operator.contract``, each fact
with its upstream file): it parses its arguments as cobra and pflag do (``standin_flags``),
talks to the API server with the pod's in-cluster credentials (``standin_client``: the token
file is read under ``$KUBE_BURNER_STANDIN_ROOT``, which the simulated kubelet sets), and makes
the requests of one run in the contract's order: kube-burner-ocp's PersistentPreRun (the health
check, then the cluster metadata, KBO cmd/ocp.go:71-114), the workload's own reads (its Run,
after cobra checked the required flags), then kube-burner's jobs (``standin_burner``). What the
target answers decides what comes next, as it does for kube-burner: an Infrastructure "cluster"
that is not found is a cluster that is not OpenShift, whose OpenShift-only metadata is not read;
one that cannot be read (403) leaves the metadata empty (GCM ocp-metadata/ocp-metadata.go:
57-60,208-225). A refusal ends the run as the contract's ``onError`` says, in kube-burner's words.

It leaves what kube-burner leaves in its working directory: the log file
``kube-burner-ocp-<uuid>.log`` (or ``kube-burner-<uuid>.log``), and with ``--local-indexing``
the local indexer's ``collected-metrics-<uuid>/`` (``jobSummary.json``,
``podLatencyMeasurement-<job>.json``, ``podLatencyQuantilesMeasurement-<job>.json``); its log
lines go to stdout in logrus' format, ending with ``👋 kube-burner run completed with rc N for
UUID U`` (KB pkg/workloads/helpers.go:104). Every request it made, with its status, is in
``standin-requests.json`` (``denied`` lists the 401 and 403 answers), for tests to assert on.

The stand-in's own failures (a scenario it cannot play, a workload the contract refuses) exit
with ``STANDIN_ERROR`` (70), which kube-burner never uses.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import sys
import traceback
import uuid as uuids
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import yaml

from localstack.standin_burner import (
    POD_KINDS,
    Burner,
    Facts,
    Fatal,
    JobPlan,
    Log,
    MappedObject,
    aggregate,
)
from localstack.standin_client import (
    ROOT_ENV,
    SERVICE_ACCOUNT_DIR,
    ApiClient,
    Response,
    RestMapper,
    Target,
    in_container,
)
from localstack.standin_custom import CustomConfig, TemplateError, parse_config, render
from localstack.standin_flags import (
    CommandLine,
    HelpRequested,
    ParseError,
    UnknownCommand,
    command_of,
    missing_required,
    parse_command_line,
    parse_go_duration,
    usage_block,
)
from localstack.standin_objects import token_request
from localstack.standin_outputs import Ending, Scenario, log_line, scenario_from
from perftest_operator.contract.load import PINNED_VERSION
from perftest_operator.contract.model import (
    ApiCall,
    BurnerJob,
    CheckKind,
    Condition,
    Contract,
    JobType,
    ObjectKind,
    OnError,
    Prerequisite,
    Workload,
)

STANDIN_ERROR = 70
TARGET_METADATA = "target-metadata"  # the contract's conditions on what the target answered
TARGET_OPENSHIFT = "target-openshift"
# logrus.ParseLevel's names (sirupsen/logrus, not mirrored; KB pkg/util/cmd.go:70-73 uses it).
LOG_LEVELS = frozenset({"panic", "fatal", "error", "warn", "warning", "info", "debug", "trace"})
# The Prometheus token kube-burner-ocp mints with --alerting (GCM ocp-metadata/types.go).
PROMETHEUS_TOKEN_SECONDS = 10 * 3600
# Kinds kube-burner waits for (KB pkg/burner/waiters.go:94-116), for custom configurations.
WAITED_KINDS = frozenset(
    {
        "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController", "Pod",
        "Build", "BuildConfig", "PersistentVolumeClaim", "Job", "VirtualMachine",
        "VirtualMachineInstance", "DataVolume", "DataSource", "VolumeSnapshot",
    }
)  # fmt: skip
NODE_ROLE = "node-role.kubernetes.io/"


def _load_contract() -> Contract:
    """The pinned contract, read with libyaml (the stand-in starts once per simulated Job)."""
    from perftest_operator.contract.load import load_contract

    return load_contract(PINNED_VERSION)


def _field(body: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(body, Mapping) or part not in body:
            return None
        body = body[part]
    return body


class StandIn:
    """One process of kube-burner-ocp (or kube-burner) from its argv to its exit code."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        workdir: pathlib.Path,
        stdout: TextIO,
        stderr: TextIO,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.workdir = workdir
        self.stdout = stdout
        self.stderr = stderr
        self.contract = _load_contract()
        self.messages = self.contract.messages
        self.log_file: TextIO | None = None
        self.client: ApiClient | None = None
        self.mapper: RestMapper | None = None
        self.log = Log(self._write)
        self.facts = Facts({})
        self.metadata: dict[str, Any] = {}
        self.workers: list[str] = []

    # Logging (KB pkg/util/cmd.go:47-75): stderr until file logging, then stdout and the file.

    def _write(self, level: str, message: str, where: str) -> None:
        line = log_line(datetime.datetime.now(datetime.UTC), level, message, where)
        if self.log_file is None:
            self.stderr.write(line)
            self.stderr.flush()
            return
        self.stdout.write(line)
        self.stdout.flush()
        self.log_file.write(line)

    def _file_logging(self, name: str) -> None:
        try:
            self.log_file = (self.workdir / f"kube-burner-{name}.log").open("w", encoding="utf-8")
        except OSError as exc:
            raise Fatal(f"Failed to create log file: {exc}", "cmd.go:51") from None

    # The command line.

    def main(self) -> int:
        tool = os.path.basename(self.argv[0]) if self.argv else self.contract.tool
        try:
            command, rest = command_of(self.contract, tool, self.argv[1:])
        except UnknownCommand as exc:
            root = tool
            if not str(exc):
                self.stdout.write(f"Usage:\n  {root} [command]\n")
                return 0
            self.stderr.write(
                f"{self.messages.error_prefix} "
                f"{self.messages.unknown_command.format(command=exc, root=root)}\n"
                f"{self.messages.unknown_command_hint.format(root=root)}\n"
            )
            return self.messages.exit_code
        try:
            line = parse_command_line(command, rest, self.messages)
        except HelpRequested:
            self.stdout.write(usage_block(command, self.messages))
            return 0
        except ParseError as exc:
            self.stderr.write(f"{self.messages.error_prefix} {exc}\n")
            if not command.silence_usage:
                self.stderr.write(usage_block(command, self.messages))
            return self.messages.exit_code
        try:
            scenario = scenario_from(self.env)
        except ValueError as exc:
            self.stderr.write(f"kube-burner stand-in: cannot read the scenario: {exc}\n")
            return STANDIN_ERROR
        self.facts = Facts({**line.values, TARGET_METADATA: "true", TARGET_OPENSHIFT: "true"})
        try:
            if command.workload is None:
                return self._kube_burner_init(line, scenario)
            return self._kube_burner_ocp(line, self.contract.workloads[command.workload], scenario)
        except Fatal as fatal:
            self._write(fatal.level, fatal.message, fatal.where)
            return 1
        except _StandInError as exc:
            self.stderr.write(f"kube-burner stand-in: {exc}\n")
            return STANDIN_ERROR
        except Exception:
            self.stderr.write("kube-burner stand-in: internal error\n" + traceback.format_exc())
            return STANDIN_ERROR
        finally:
            if self.client is not None:
                self.client.close()
                self.client.write_journal(self.workdir)
            if self.log_file is not None:
                self.log_file.close()

    def _configure_logging(self, line: CommandLine) -> str:
        level = line.values.get("log-level", "info")
        if level not in LOG_LEVELS:
            raise Fatal(f"Unknown log level {level}", "cmd.go:72")
        return line.values.get("uuid") or str(uuids.uuid4())

    def _connect(self) -> ApiClient:
        # No kubeconfig: rest.InClusterConfig(), or Fatal (KB pkg/config/config.go:229-232).
        try:
            self.client = ApiClient(self.env)
        except ConnectionError as exc:
            raise Fatal(f"error preparing kubernetes client: {exc}", "config.go:231") from None
        except OSError as exc:
            path = SERVICE_ACCOUNT_DIR + "/token"
            message = f"error preparing kubernetes client: open {path}: {exc.strerror}"
            raise Fatal(message, "config.go:231") from None
        self.mapper = RestMapper(self.client)
        return self.client

    # Requests of the contract's startup and pre-run calls.

    def _call(self, call: ApiCall, *, body: Any = None) -> Response:
        assert self.client is not None and self.mapper is not None
        self.client.phase = call.phase
        resource, _, subresource = call.resource.partition("/")
        served = self.mapper.preferred(call.group, resource)
        if served is None:
            # A typed client asks anyway; the server answers 404 for what it does not serve.
            target = Target(
                call.group,
                "v1",
                resource,
                call.namespace is not None,
                call.namespace,
                call.name,
                subresource or None,
            )
        else:
            target = served.target(call.namespace, call.name, subresource or None)
        query: dict[str, str] = {}
        if call.label_selector:
            query["labelSelector"] = call.label_selector
        if call.field_selector:
            query["fieldSelector"] = call.field_selector
        return self.client.call(call.verb, target, query=query, body=body)

    def _fail(self, call: ApiCall, response: Response, message: str, where: str) -> None:
        """A refused startup or pre-run call, by its onError."""
        if call.on_error is OnError.NOT_FOUND_OK and response.status == 404:
            return
        if call.on_error is OnError.IGNORED:
            self.log.error(message, where)
            return
        raise Fatal(message, where)

    def _health_check(self, calls: Sequence[ApiCall]) -> None:
        """ClusterHealthCheck: nodes, then ClusterOperators, then ROSA's job (KBO
        cluster_health.go:45-95; KB pkg/util/cluster_health.go:21-44)."""
        self.log.info("❤️ Checking for Cluster Health", "cluster_health.go:46")
        healthy = True
        for call in calls:
            response = self._call(call)
            if call.resource == "nodes":
                if not response.ok:
                    self.log.error(
                        f"Error getting nodes: {response.message}", "cluster_health.go:25"
                    )
                    healthy = False
                    break  # `&&`: the OpenShift checks are not made
                for node in response.body.get("items") or []:
                    name = node["metadata"]["name"]
                    for condition in _field(node, "status.conditions") or []:
                        kind, status = condition.get("type"), condition.get("status")
                        if kind == "Ready" and status != "True":
                            self.log.error(f"Node {name} is not Ready", "cluster_health.go:34")
                            healthy = False
                        if kind != "Ready" and status != "False":
                            self.log.error(
                                f"Node {name} is experiencing {kind}", "cluster_health.go:38"
                            )
                            healthy = False
                if not healthy:
                    break
            elif call.resource == "clusteroperators":
                if not response.ok:
                    raise Fatal(
                        f"Error retrieving Cluster Operators: {response.message}",
                        "cluster_health.go:64",
                        level="error",
                    )
                for operator in response.body.get("items") or []:
                    for condition in _field(operator, "status.conditions") or []:
                        if (
                            condition.get("type") == "Available"
                            and condition.get("status") != "True"
                        ):
                            healthy = False
                            self.log.error(
                                f"Cluster Operator: {operator['metadata']['name']}, Condition: "
                                f"Available, Status: {condition.get('status')}, Reason: "
                                f"{condition.get('reason', '')}",
                                "cluster_health.go:73",
                            )
            elif response.status == 404:
                continue
            elif not response.ok:
                self.log.error(
                    f"Error getting job/{call.name} in namespace {call.namespace}: {response.message}",
                    "cluster_health.go:83",
                )
                healthy = False
            else:
                for condition in _field(response.body, "status.conditions") or []:
                    if condition.get("type") == "Complete" and condition.get("status") != "True":
                        healthy = False
        if not healthy:
            raise Fatal("Cluster is Unhealthy", "cluster_health.go:56")
        self.log.info("Cluster is Healthy", "cluster_health.go:54")

    def _count_nodes(self, items: Sequence[Mapping[str, Any]]) -> None:
        """getNodesInfo's counts (GCM ocp-metadata/ocp-metadata.go:267-297)."""
        counts = {"master": 0, "worker": 0, "infra": 0, "other": 0}
        for node in items:
            labels = _field(node, "metadata.labels") or {}
            if NODE_ROLE + "master" in labels:
                counts["master"] += 1
                if NODE_ROLE + "worker" in labels and not _field(node, "spec.taints"):
                    counts["worker"] += 1
            elif NODE_ROLE + "control-plane" in labels:
                counts["master"] += 1
            elif NODE_ROLE + "infra" in labels:
                counts["infra"] += 1
            elif NODE_ROLE + "worker" in labels:
                counts["worker"] += 1
            else:
                counts["other"] += 1
        self.metadata.update(
            totalNodes=len(items),
            masterNodesCount=counts["master"],
            workerNodesCount=counts["worker"],
            infraNodesCount=counts["infra"],
            otherNodesCount=counts["other"],
        )

    def _gather_metadata(self, calls: Sequence[ApiCall]) -> None:
        """GatherMetadata: Prometheus with --alerting, then GetClusterMetadata (KBO common.go:
        68-96; GCM ocp-metadata/ocp-metadata.go:54-112)."""
        assert self.client is not None
        for call in calls:
            if not self.facts.holds(call.when):
                continue
            if (call.group, call.resource) == ("config.openshift.io", "clusterversions"):
                # getVersionInfo asks the server's version first (ocp-metadata.go:227-235).
                version = self.client.raw(
                    "GET", "/version", record={"verb": "get", "nonResource": True}
                )
                if not version.ok:
                    raise Fatal(version.message, "ocp.go:112")
                self.metadata["k8sVersion"] = (version.body or {}).get("gitVersion")
            if call.resource == "serviceaccounts/token":
                response = self._call(call, body=token_request(PROMETHEUS_TOKEN_SECONDS))
            else:
                response = self._call(call)
            key = (call.group, call.resource)
            if key in (("route.openshift.io", "routes"), ("", "serviceaccounts/token")):
                if not response.ok:
                    raise Fatal(
                        f"error obtaining Prometheus information: {response.message}", "ocp.go:112"
                    )
                if key[1] == "routes" and _field(response.body, "spec.host") is None:
                    raise Fatal(
                        "error obtaining Prometheus information: host field not found in "
                        "openshift-monitoring/prometheus-k8s route spec",
                        "ocp.go:112",
                    )
            elif key == ("config.openshift.io", "infrastructures"):
                if response.status == 404:  # not an OCP cluster: no OpenShift metadata
                    self.facts.values[TARGET_OPENSHIFT] = "false"
                elif not response.ok:  # empty metadata, and nothing else is read
                    self.facts.values[TARGET_METADATA] = "false"
                    self.facts.values[TARGET_OPENSHIFT] = "false"
                else:
                    status = response.body.get("status") or {}
                    self.metadata.update(
                        clusterName=status.get("infrastructureName"),
                        platform=status.get("platform") or _field(status, "platformStatus.type"),
                        region=_field(status, "platformStatus.aws.region"),
                        clusterType="self-managed",
                    )
                    for tag in _field(status, "platformStatus.aws.resourceTags") or []:
                        if tag.get("key") == "red-hat-clustertype":
                            self.metadata["clusterType"] = tag.get("value")
            elif key == ("config.openshift.io", "clusterversions"):
                if response.ok:
                    for update in _field(response.body, "status.history") or []:
                        if update.get("state") == "Completed":
                            self.metadata["ocpVersion"] = update.get("version")
                            self.metadata["ocpMajorVersion"] = ".".join(
                                str(update.get("version")).split(".")[:2]
                            )
                            break
                elif response.status != 404:
                    raise Fatal(response.message, "ocp.go:112")
            elif key == ("", "nodes"):
                if not response.ok:  # swallowed: the metadata ends here (ocp-metadata.go:66-68)
                    self.facts.values[TARGET_OPENSHIFT] = "false"
                    continue
                items = response.body.get("items") or []
                self._count_nodes(items)
                self.workers = [
                    n["metadata"]["name"]
                    for n in items
                    if NODE_ROLE + "worker" in (_field(n, "metadata.labels") or {})
                ]
            elif not response.ok:
                self._fail(call, response, response.message, "ocp.go:112")
            elif key == ("config.openshift.io", "networks"):
                network_type = _field(response.body, "status.networkType")
                if network_type is None:
                    raise Fatal(
                        "networkType field not found in config.openshift.io/v1/network/networks/"
                        "cluster status",
                        "ocp.go:112",
                    )
                self.metadata["sdnType"] = network_type
            elif key == ("", "configmaps"):
                try:
                    install = (
                        yaml.safe_load(_field(response.body, "data.install-config") or "") or {}
                    )
                except yaml.YAMLError as exc:
                    raise Fatal(str(exc), "ocp.go:112") from None
                self.metadata.update(publish=install.get("publish"), fips=install.get("fips"))
                for pool in install.get("compute") or []:
                    if pool.get("name") == "worker":
                        self.metadata["workerArch"] = pool.get("architecture")
                self.metadata["controlPlaneArch"] = _field(install, "controlPlane.architecture")
            elif key == ("operator.openshift.io", "networks"):
                mode = _field(
                    response.body, "spec.defaultNetwork.ovnKubernetesConfig.ipsecConfig.mode"
                )
                self.metadata["ipsecMode"] = mode or "Disabled"
                self.metadata["ipsec"] = bool(mode) and mode != "Disabled"

    def _prerun(self, workload: Workload) -> int:
        """The workload's own reads before kube-burner starts, and the count they give."""
        current = 0
        worker_nodes: set[str] = set()
        for call in workload.calls:
            if not self.facts.holds(call.when):
                continue
            response = self._call(call)
            prerequisite = _prerequisite_of(workload, call)
            where = call.source.split(";")[0].split(" ", 1)[-1]
            if not response.ok:
                if prerequisite is not None and prerequisite.check is CheckKind.OBJECT_FIELD:
                    message = f"{prerequisite.message.partition(': ')[0]}: {response.message}"
                elif call.group == "apps" and call.resource == "deployments":
                    message = f"Error getting deployment: {response.message}"
                else:
                    message = response.message
                self._fail(call, response, message, where)
                continue
            if prerequisite is not None and prerequisite.check is CheckKind.DEPLOYMENT_AVAILABLE:
                if not _field(response.body, "status.availableReplicas"):
                    raise Fatal(prerequisite.message, where)
            elif prerequisite is not None and prerequisite.check is CheckKind.OBJECT_FIELD:
                if _field(response.body, prerequisite.field or "") is None:
                    raise Fatal(prerequisite.message, where)
            elif call.resource == "nodes" and call.label_selector:
                worker_nodes = {n["metadata"]["name"] for n in response.body.get("items") or []}
            elif call.resource == "pods" and call.field_selector:
                current = sum(
                    1 for p in response.body.get("items") or []
                    if _field(p, "spec.nodeName") in worker_nodes
                )  # fmt: skip
            elif call.resource == "virtualmachineinstances":
                current = sum(
                    1 for v in response.body.get("items") or []
                    if _field(v, "status.phase") == "Running"
                )  # fmt: skip
        return current

    def _job_iterations(self, workload: Workload, current: int) -> int:
        """JOB_ITERATIONS: the size flag, or, for workloads sized per worker node, the workers
        times it less what runs already (KBO node-density.go:41,60-64; virt-density.go:39-45)."""
        size = int(self.facts.values.get(workload.size_flag or "", "0") or 0)
        if not any(p.check is CheckKind.WORKER_NODES for p in workload.prerequisites):
            return size
        total = int(self.metadata.get("workerNodesCount") or 0) * size - current
        if workload.name in ("node-density-heavy", "node-density-cni"):
            total //= 2
        return total

    def _plans(
        self,
        jobs: Sequence[BurnerJob],
        iterations: int,
        scenario: Scenario,
        templates: Mapping[str, str] | None = None,
    ) -> list[JobPlan]:
        """Each job with its objects mapped to resources (KB pkg/burner/create.go:43-80)."""
        assert self.mapper is not None
        plans = []
        for position, job in enumerate(jobs):
            count = int(job.iterations) if job.iterations else iterations
            if count < 1 and job.type in (JobType.CREATE, JobType.READ):
                raise Fatal(f"Job {job.name} has < 1 iterations", "config.go:203")
            if scenario.max_iterations is not None:
                count = min(count, scenario.max_iterations)
            per_namespace = job.iterations_per_namespace
            objects = []
            for index, kind in enumerate(job.active_objects(self.facts.values)):
                served = self.mapper.kind(kind.group, kind.kind)
                if served is None:
                    raise Fatal(
                        f'no matches for kind "{kind.kind}" in group "{kind.group}"', "create.go:70"
                    )
                replicas = kind.replicas
                objects.append(
                    MappedObject(
                        index=index,
                        kind=kind,
                        served=served,
                        replicas=int(self.facts.values.get(replicas, replicas)),
                        template=(templates or {}).get(kind.source),
                    )
                )
                self.log.info(
                    f"Job {job.name}: {count} iterations with {objects[-1].replicas} {kind.kind} replicas",
                    "create.go:84",
                )
            plans.append(
                JobPlan(
                    job=job,
                    iterations=count,
                    objects=objects,
                    iterations_per_namespace=int(
                        self.facts.values.get(per_namespace, per_namespace)
                    ),
                    namespace=job.namespace.replace("{{.JOB_ITERATIONS}}", str(iterations)),
                    position=position,
                )
            )
        return plans

    def _check_scenario(
        self, scenario: Scenario, plans: Sequence[JobPlan], thresholds: Sequence[str], gc: bool
    ) -> Scenario:
        pods = any(o.kind.kind in POD_KINDS for p in plans for o in p.objects)
        if scenario.ending is Ending.THRESHOLD:
            if not thresholds or not pods:
                raise _StandInError("the scenario asks for a threshold, which this run has none of")
            limit = max(parse_go_duration(t, self.messages) // 1_000_000 for t in thresholds)
            p99 = scenario.pod_ready_p99_ms or limit + max(limit // 2, 1000)
            if p99 <= limit:
                raise _StandInError(f"a P99 of {p99} ms is not over the threshold ({limit} ms)")
            return Scenario(
                scenario.start, scenario.end, Ending.COMPLETED, p99, scenario.max_iterations
            )
        if scenario.ending is Ending.WAIT_TIMEOUT and not any(
            o.kind.wait for p in plans for o in p.objects
        ):
            raise _StandInError("the scenario asks for a wait timeout, but no object is waited for")
        if scenario.ending is Ending.GC_TIMEOUT and not gc:
            raise _StandInError("the scenario asks for a garbage-collection timeout without --gc")
        return scenario

    # The two binaries.

    def _kube_burner_ocp(self, line: CommandLine, workload: Workload, scenario: Scenario) -> int:
        uuid = self._configure_logging(line)
        values = line.values
        if values.get("enable-file-logging") == "true":
            self._file_logging(f"ocp-{uuid}")  # KBO cmd/ocp.go:82-84
        self._connect()
        startup = [c for c in self.contract.startup if self.facts.holds(c.when)]
        health = [c for c in startup if c.when.text == "check-health"]
        if health:
            self._health_check(health)
        self._gather_metadata([c for c in startup if c not in health])
        missing = missing_required(line, self.messages)
        if missing is not None:  # cobra checks them only now (COBRA command.go:954-982)
            self.stderr.write(f"{self.messages.error_prefix} {missing}\n")
            if not line.command.silence_usage:
                self.stderr.write(usage_block(line.command, self.messages))
            return self.messages.exit_code
        if workload.refused is not None:
            raise _StandInError(f"{workload.name} is not modelled: {workload.refused}")
        current = self._prerun(workload)
        iterations = self._job_iterations(workload, current)
        jobs = [j for j in workload.jobs if self.facts.holds(j.when)]
        version = f"{self.contract.version.removeprefix('v')}@{self.contract.sources['KBO'].commit}"
        self.log.info(f"🔥 Starting kube-burner ({version}) with UUID {uuid}", "job.go:90")
        plans = self._plans(jobs, iterations, scenario)
        measurements = [m for m in workload.measurements if self.facts.holds(m.when)]
        thresholds = []
        if any(m.name == "podLatency" for m in measurements):
            if workload.pod_ready_threshold:
                thresholds.append(values[workload.pod_ready_threshold])
            elif workload.pod_ready_threshold_value:
                thresholds.append(workload.pod_ready_threshold_value)
        gc = values.get("gc") == "true"
        scenario = self._check_scenario(scenario, plans, thresholds, gc)
        directory = None
        if values.get("local-indexing") == "true":
            directory = self.workdir / self.contract.outputs["directory"].format(uuid=uuid)
        churn = {}
        if workload.churn is not None:
            churn = {
                "percent": values.get(workload.churn.percent, "10"),
                "delay": values.get(workload.churn.delay, "2m0s"),
            }
        outcome = self._burner(
            plans,
            measurements,
            thresholds,
            uuid,
            values["timeout"],
            gc,
            scenario,
            version,
            directory,
            churn,
        ).run()
        if outcome.errors:
            self.log.error(aggregate(outcome.errors), "helpers.go:102")
        self.log.info(
            f"👋 kube-burner run completed with rc {outcome.rc} for UUID {uuid}", "helpers.go:104"
        )
        return outcome.rc

    def _burner(
        self,
        plans: list[JobPlan],
        measurements: Sequence[Any],
        thresholds: Sequence[str],
        uuid: str,
        timeout: str,
        gc: bool,
        scenario: Scenario,
        version: str,
        directory: pathlib.Path | None,
        churn: Mapping[str, str],
    ) -> Burner:
        assert self.client is not None and self.mapper is not None
        return Burner(
            contract=self.contract,
            facts=self.facts,
            jobs=plans,
            measurements=measurements,
            thresholds=thresholds,
            uuid=uuid,
            runid=str(uuids.uuid4()),
            timeout=timeout,
            gc=gc,
            client=self.client,
            mapper=self.mapper,
            log=self.log,
            scenario=scenario,
            version=version,
            metadata=self.metadata,
            metrics_directory=directory,
            churn=churn,
        )

    def _kube_burner_init(self, line: CommandLine, scenario: Scenario) -> int:
        """kube-burner init (KB cmd/kube-burner/kube-burner.go:75-143)."""
        uuid = self._configure_logging(line)
        self._file_logging(uuid)
        self._connect()
        assert self.mapper is not None
        path = line.values.get("config") or ""
        if not path:
            raise _StandInError("only --config is modelled (not --configmap)")
        root = self.env.get(ROOT_ENV)
        try:
            text = in_container(root, path).read_text()
        except OSError as exc:
            raise Fatal(
                f"Error reading configuration file {path}: open {path}: {exc.strerror}",
                "kube-burner.go:117",
            ) from None
        try:
            config = parse_config(text, self.env)
        except (TemplateError, ValueError, yaml.YAMLError) as exc:
            raise Fatal(f"Config error: {exc}", "kube-burner.go:128") from None
        jobs, templates = self._custom_jobs(config, root)
        version = (
            f"{self.contract.custom.version.removeprefix('v')}@{self.contract.sources['KB'].commit}"
        )
        if config.cluster_health:
            self._health_check(self.contract.health_check_calls())
        measurements = (
            [
                m
                for w in self.contract.workloads.values()
                for m in w.measurements
                if m.name == "podLatency"
            ][:1]
            if "podLatency" in config.measurements
            else []
        )
        self.log.info(f"🔥 Starting kube-burner ({version}) with UUID {uuid}", "job.go:90")
        plans = self._plans(jobs, 0, scenario, templates)
        scenario = self._check_scenario(scenario, plans, config.thresholds, config.gc)
        directory = self.workdir / config.metrics_directory if config.metrics_directory else None
        outcome = self._burner(
            plans,
            measurements,
            config.thresholds,
            uuid,
            line.values["timeout"],
            config.gc,
            scenario,
            version,
            directory,
            {},
        ).run()
        if outcome.errors:
            self.log.error(aggregate(outcome.errors), "kube-burner.go:137")
            return outcome.rc
        self.log.info(f"👋 Exiting kube-burner {uuid}", "kube-burner.go:89")
        return outcome.rc

    def _custom_jobs(
        self, config: CustomConfig, root: str | None
    ) -> tuple[list[BurnerJob], dict[str, str]]:
        """The configuration's jobs in the contract's terms, and each object's template text."""
        assert self.mapper is not None
        jobs = []
        templates: dict[str, str] = {}
        for job in config.jobs:
            objects = []
            for number, item in enumerate(job.objects):
                try:
                    text = in_container(root, item.template_path).read_text()
                except OSError as exc:
                    raise Fatal(
                        f"Error reading template {item.template_path}: {exc.strerror}",
                        "create.go:55",
                    ) from None
                data = {"Iteration": 0, "Replica": 1, "JobName": job.name, "UUID": "", "RunID": ""}
                try:
                    first = yaml.safe_load(render(text, data)) or {}
                except (TemplateError, yaml.YAMLError) as exc:
                    raise Fatal(
                        f"Template error in {item.template_path}: {exc}", "executor.go:113"
                    ) from None
                api_version, kind = str(first.get("apiVersion", "")), str(first.get("kind", ""))
                key = f"{item.template_path}#{number}"
                templates[key] = text
                objects.append(
                    ObjectKind(
                        api_version=api_version,
                        kind=kind,
                        resource="",
                        namespaced=True,
                        source=key,
                        namespace=_field(first, "metadata.namespace"),
                        wait=item.wait and kind in WAITED_KINDS,
                        replicas=str(item.replicas),
                    )
                )
            jobs.append(
                BurnerJob(
                    name=job.name,
                    source=f"the configuration's job {job.name}",
                    type=JobType(job.job_type),
                    namespace=job.namespace,
                    namespaced_iterations=job.namespaced_iterations,
                    pre_load_images=job.pre_load_images,
                    wait_when_finished=job.wait_when_finished,
                    pod_wait=job.pod_wait,
                    cleanup=job.cleanup,
                    verify_objects=job.verify_objects,
                    iterations_per_namespace=str(job.iterations_per_namespace),
                    iterations=str(job.iterations),
                    churn=Condition("true" if job.churn else "false"),
                    objects=tuple(objects),
                )
            )
        return jobs, templates


class _StandInError(Exception):
    """Something the stand-in cannot play; not kube-burner's behaviour."""


def _prerequisite_of(workload: Workload, call: ApiCall) -> Prerequisite | None:
    return next(
        (
            p
            for p in workload.prerequisites
            if p.namespace == call.namespace and p.name == call.name and p.name is not None
        ),
        None,
    )


def main(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    workdir: pathlib.Path | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the stand-in; ``argv[0]`` is the binary's name (kube-burner-ocp or kube-burner)."""
    return StandIn(
        argv,
        os.environ if env is None else env,
        pathlib.Path.cwd() if workdir is None else workdir,
        stdout or sys.stdout,
        stderr or sys.stderr,
    ).main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
