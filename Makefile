# perftest-operator: developer entry points. `make demo` and `make test` are all a newcomer needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KUBECONFIG ?= $(HOME)/.kube/config

.PHONY: install demo run test test-unit test-integration test-e2e lint format bench install-crds uninstall-crds render clean

$(STAMP): pyproject.toml
	@command -v prometheus >/dev/null && command -v promtool >/dev/null || bash hack/install-prometheus.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

install: $(STAMP) ## Debian's prometheus, a virtual environment, the package with test and lint tools

demo: $(STAMP) ## the product on the local stack: emulator, Prometheus, simulated Jobs, the real operator
	$(PY) hack/demo.py

run: $(STAMP) ## the operator against the current kubeconfig
	$(VENV)/bin/perftest run --kubeconfig $(KUBECONFIG)

install-crds: ## install the CRDs into the current kubeconfig's cluster
	kubectl apply -f crds/perftests.perftest.dev.yaml -f crds/perfruns.perftest.dev.yaml

uninstall-crds:
	kubectl delete -f crds/perftests.perftest.dev.yaml -f crds/perfruns.perftest.dev.yaml

test: $(STAMP) lint ## lint, types, layers, then every test (unit, integration, end to end)
	$(VENV)/bin/pytest -q

test-unit: $(STAMP)
	$(VENV)/bin/pytest -q tests/unit

test-integration: $(STAMP)
	$(VENV)/bin/pytest -q tests/integration

test-e2e: $(STAMP)
	$(VENV)/bin/pytest -q tests/e2e

lint: $(STAMP)
	$(VENV)/bin/ruff check operator tests hack
	$(VENV)/bin/ruff format --check operator tests hack
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix operator tests hack
	$(VENV)/bin/ruff format operator tests hack

# Not part of `test` or CI. Otava and signal-processing-algorithms pin incompatible numpy
# versions, so each gets its own virtual environment; CORPUS is the change-point dev corpus.
BENCH_OTAVA := .venv-bench-otava
BENCH_SPA := .venv-bench-spa
CORPUS ?= ../shared/cpd-corpus/dev
BENCH_ROUNDS ?= 3
BENCH_THRESHOLD ?= 0

$(BENCH_OTAVA)/.installed:
	test -x $(BENCH_OTAVA)/bin/python || python3 -m venv $(BENCH_OTAVA)
	$(BENCH_OTAVA)/bin/python -m pip install --quiet apache-otava==0.8.0
	touch $@

$(BENCH_SPA)/.installed:
	test -x $(BENCH_SPA)/bin/python || python3 -m venv $(BENCH_SPA)
	$(BENCH_SPA)/bin/python -m pip install --quiet signal-processing-algorithms==2.1.6
	touch $@

bench: $(STAMP) $(BENCH_OTAVA)/.installed $(BENCH_SPA)/.installed ## our detector vs Apache Otava, MongoDB's E-Divisive, Pelt: F1, false alarms, seconds
	$(PY) hack/bench/bench.py --corpus $(CORPUS) --rounds $(BENCH_ROUNDS) \
		--threshold-percent $(BENCH_THRESHOLD) --ours-python $(PY) \
		--otava-python $(BENCH_OTAVA)/bin/python --spa-python $(BENCH_SPA)/bin/python

render: $(STAMP) ## the ConfigMap and Job of the sample PerfTest
	$(VENV)/bin/perftest render -f manifests/samples/perftest-cluster-density.yaml

clean:
	rm -rf $(VENV) .venv-bench-otava .venv-bench-spa .pytest_cache .mypy_cache .ruff_cache .demo
