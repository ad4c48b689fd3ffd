# The two commands are `make run` and `make test`; each sets itself up on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins packaging<24, which pytest cannot share: its own environment (requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
COLLECTION_LINK := $(VENV)/collections/ansible_collections/streams/kafka
SANITY_ROOT := build/sanity/ansible_collections/streams/kafka
INVENTORY ?= inventories/local
PYTEST_ARGS ?=
# The suites run on every core: a playbook run keeps one core busy. Modules that share a fixture's
# run or a fixed address are grouped in tests/xdist_groups.py (loadgroup runs a group on one
# worker); the unit modules' renders are module fixtures (loadscope runs a module on one worker).
# PYTEST_WORKERS=0 runs them in this process.
PYTEST_WORKERS ?= auto
XDIST_UNIT := -n $(PYTEST_WORKERS) --dist loadscope
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(VENV)/collections
export ANSIBLE_FORCE_COLOR ?= 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv checkov-venv run test lint sanity unit integration test-reliability molecule bench bench-roll zookeeper-package prometheus-package changelog ee-context clean

help:
	@echo "make run    deploy with playbooks/site.yml -i $(INVENTORY) (local inventory: write manifests to build/manifests)"
	@echo "make test   lint, sanity, unit and integration tests"
	@echo "make venv   create $(VENV) and install requirements"
	@echo "make lint   ansible-lint (production profile) and changelog lint"
	@echo "make bench  time site.yml (6 components) cold and no-op against a server-side-apply baseline, 1/4/8 clusters, gate latency"
	@echo "make bench-roll  time a config-change roll of 3 ZooKeeper + 5 Kafka pods in kubesim; print the gates' overhead"

venv: $(STAMP) $(COLLECTION_LINK)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

checkov-venv: $(CHECKOV_STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# ansible-playbook finds this checkout as streams.kafka through the link.
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

run: venv
	ansible-playbook playbooks/site.yml -i $(INVENTORY)

test: venv zookeeper-package prometheus-package lint sanity unit integration test-reliability molecule

# The real-ensemble tests start Debian's ZooKeeper 3.8.
zookeeper-package:
	@if ! dpkg -s zookeeper >/dev/null 2>&1; then \
		echo "installing Debian package zookeeper"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper >/dev/null; \
	fi

# The monitoring role's tests check and unit-test its alert rules with promtool, from Debian's
# prometheus package.
prometheus-package:
	@if ! command -v promtool >/dev/null 2>&1; then \
		echo "installing Debian package prometheus (for promtool)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	fi

lint: venv
	ansible-lint --profile production --strict
	antsibull-changelog lint

# ansible-test wants the tree under ansible_collections/<ns>/<name>; copy what git knows about.
# ansible-test fetches a pip bootstrap script from a host outside PyPI; give it ours.
# The pip version follows the pinned ansible-core (python_requirements.get_venv_packages).
GET_PIP_CACHE := $(HOME)/.ansible/test/cache/get_pip_24_2.py

sanity: venv
	mkdir -p $(dir $(GET_PIP_CACHE)) && cp .ci/get_pip.py $(GET_PIP_CACHE)
	rm -rf build/sanity && mkdir -p $(SANITY_ROOT)
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t $(SANITY_ROOT)
	@# The import and validate-modules tests load our modules in a clean environment that finds
	@# collections only next to ours: link the dependencies the ansible package installed.
	for dep in kubernetes/core; do \
		src=$$($(BIN)/python -c 'import importlib, sys; print(list(importlib.import_module("ansible_collections." + sys.argv[1].replace("/", ".")).__path__)[0])' $$dep); \
		mkdir -p build/sanity/ansible_collections/$$(dirname $$dep) && ln -sfn $$src build/sanity/ansible_collections/$$dep; \
	done
	cd $(SANITY_ROOT) && git init -q && git add -A && \
		ansible-test sanity --python $$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])') --local --color no

# tests/unit/test_checkov.py runs checkov from $(CHECKOV_VENV) on the rendered default deployment.
unit: venv checkov-venv
	python -m pytest tests/unit $(XDIST_UNIT) $(PYTEST_ARGS)

integration: venv zookeeper-package
	python -m pytest tests/integration $(XDIST) $(PYTEST_ARGS)

# Bad input refused before any write (tests/reliability/bad_inputs/, one host each).
test-reliability: venv
	python -m pytest tests/reliability $(XDIST) $(PYTEST_ARGS)

# molecule/default: site.yml converged twice (the second changes nothing) on a kubesim it starts
# with healthy applications behind the pod proxy, then status.yml; offline, no containers.
molecule: venv
	molecule test -s default

# Not part of `make test`: the safe roll's time against the pods' own restart times
# (docs/performance.md). BENCH_ARGS=--ready-delay 5 ...
BENCH_ARGS ?=
bench-roll: venv
	python -m tests.bench.bench_roll $(BENCH_ARGS)

# Not part of `make test`: site.yml's wall time and API requests against one Python process that
# server-side-applies the same manifests, scaling to 8 clusters, gate latency
# (docs/performance.md). BENCH_SITE_ARGS=--scale 1,4 ...
BENCH_SITE_ARGS ?=
bench: venv
	python -m tests.bench.bench_site $(BENCH_SITE_ARGS)

# The build context of the execution environment (execution-environment.yml); building the
# image itself needs podman or docker: ansible-builder build -f execution-environment.yml
ee-context: venv
	rm -rf build/ee-collections build/ee-context
	ansible-galaxy collection build --force --output-path build/ee-collections .
	ansible-builder create -f execution-environment.yml --context build/ee-context

changelog: venv
	antsibull-changelog release

clean:
	rm -rf build
