# Runbook console: build, deploy and operate the Monkeytown reference service.
# Blue-green on one box: nginx proxy on 127.0.0.1:$(PORT), blue and green containers on
# $(BLUE_PORT) and $(GREEN_PORT). Everything is overridable, e.g.
#   make deploy VERSION=v2 MONKEYTOWN_PREFIX=drill1 PORT=3100 BLUE_PORT=3101 GREEN_PORT=3102
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

VERSION ?= latest
# Environment whose deploy/config/<env>.json is used (dev, staging, prod). `make deploy ENV=x`
# also works; a plain ENV from the shell is ignored because sh uses that name for itself.
DEPLOY_ENV ?= prod
ifeq ($(origin ENV),command line)
DEPLOY_ENV := $(ENV)
endif
PORT ?= 3000
BLUE_PORT ?= 3001
GREEN_PORT ?= 3002
PREVIEW_PORT ?= 4173
# Log lines that logs-tail and history show. `make logs-tail LINES=100` works too; a LINES
# from the environment is ignored, as shells set that name to the terminal's height.
LOG_LINES ?= 50
ifeq ($(origin LINES),command line)
LOG_LINES := $(LINES)
endif
# A terminal size passed on would override the real one of whatever a recipe starts (the console).
unexport LINES COLUMNS
BASE_IMAGE ?= runbook-base:bookworm
WEB_IMAGE ?= monkeytown-web
PROXY_IMAGE ?= monkeytown-proxy:latest
DOCKER_BUILD_NETWORK ?= host
# docker, or local: the colours and proxy as local processes (deploy/lib-local.sh), no engine;
# or swarm: a Docker Swarm stack (deploy/swarm.sh, deploy/docker-compose.swarm.yml) on the
# swarm manager DOCKER_HOST names.
DEPLOY_RUNTIME ?= docker
LOCAL_ENGINE_DIR ?= $(CURDIR)/.monkeytown/devops/local-engine
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

export MONKEYTOWN_PORT ?= $(PORT)
export MONKEYTOWN_BLUE_PORT ?= $(BLUE_PORT)
export MONKEYTOWN_GREEN_PORT ?= $(GREEN_PORT)
export WEB_IMAGE PROXY_IMAGE BASE_IMAGE LOG_LINES DEPLOY_RUNTIME LOCAL_ENGINE_DIR
LOCAL := $(filter local,$(DEPLOY_RUNTIME))
# The classic builder: the engine here has no buildx, and builds must work offline.
export DOCKER_BUILDKIT ?= 0

DOCKER_BUILD = docker build --quiet --network $(DOCKER_BUILD_NETWORK) --build-arg BASE_IMAGE=$(BASE_IMAGE)
# Drops the classic builder's deprecation notice from stderr; real errors still show and fail.
QUIET_BUILD = 2>&1 >/dev/null | { grep -vE 'DEPRECATED|BuildKit is currently|environment-variable|^$$' >&2 || true; }

.PHONY: help test console lint services base-image build build-proxy deploy rollback rollback-now \
	status logs-tail update-config prometheus history audit dev preview clean down local-engine

help: ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

test:
	bash scripts/test.sh

console:
	bash scripts/console.sh

lint: ## ruff, mypy and the import contracts
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy
	$(if $(wildcard .venv/bin/lint-imports),.venv/bin/lint-imports,lint-imports)

services: ## Install tools if missing and start the Docker engine
	@bash scripts/services.sh

base-image: $(if $(LOCAL),,services) ## Build the offline base image (runbook-base:bookworm) if absent
	@$(if $(LOCAL),:,if [ "$(BASE_IMAGE)" = runbook-base:bookworm ]; then bash scripts/base-image.sh; fi)

build: base-image build-proxy ## Build $(WEB_IMAGE):$(VERSION) from Dockerfile.web
ifneq ($(LOCAL),)
	@bash deploy/local-build.sh $(VERSION)
else
	@echo "build: $(WEB_IMAGE):$(VERSION) from infrastructure/docker/Dockerfile.web (base $(BASE_IMAGE))"
	@$(DOCKER_BUILD) --build-arg VERSION=$(VERSION) -f infrastructure/docker/Dockerfile.web \
		-t $(WEB_IMAGE):$(VERSION) . $(QUIET_BUILD)
endif

build-proxy: base-image ## Build the nginx proxy image if absent
ifneq ($(LOCAL),)
	@bash deploy/local-build.sh
else
	@if docker image inspect $(PROXY_IMAGE) >/dev/null 2>&1; then \
		echo "build: $(PROXY_IMAGE) present"; \
	else \
		echo "build: $(PROXY_IMAGE) from infrastructure/docker/Dockerfile.proxy"; \
		$(DOCKER_BUILD) -f infrastructure/docker/Dockerfile.proxy -t $(PROXY_IMAGE) . $(QUIET_BUILD); \
	fi
endif

local-engine: ## Start the local process engine that DEPLOY_RUNTIME=local deploys to (no Docker)
	@$(PYTHON) deploy/service/procd.py --root $(LOCAL_ENGINE_DIR) serve \
		&& echo "local-engine: running for $(LOCAL_ENGINE_DIR); use DEPLOY_RUNTIME=local make deploy ..."

deploy: ## Blue-green deploy of $(WEB_IMAGE):$(VERSION) (make build VERSION=x first)
	@DEPLOY_ENV=$(DEPLOY_ENV) bash deploy/deploy.sh $(VERSION)

rollback: ## Roll back to the previous version (five steps, zero downtime)
	@bash deploy/rollback.sh

rollback-now: ## Immediate rollback to the still-running previous colour
	@bash deploy/rollback.sh --now

status: ## Live colour; version, health and uptime of each container
	@bash deploy/status.sh

logs-tail: ## Last $(LOG_LINES) log lines of the live container (LINES=n for another count, FOLLOW=1 to follow, PROBES=1 with the console's probes)
	@bash deploy/logs-tail.sh

update-config: ## Apply deploy/config/$(DEPLOY_ENV).json without restart (ENV=x)
	@bash deploy/update-config.sh $(DEPLOY_ENV)

prometheus: ## Run Prometheus for this sandbox on 127.0.0.1:$${PROMETHEUS_PORT:-9090} (alert rules = runbook thresholds)
	@bash deploy/prometheus.sh

history: ## Last deployments from the deployment history
	@tail -n $(LOG_LINES) $${DEPLOY_HISTORY_DIR:-.monkeytown/devops/deployment-history}/deployments.jsonl 2>/dev/null \
		|| echo "history: no deployments recorded yet"

# The deployed image unless VERSION is given.
AUDIT_TAG = $(if $(filter command line environment,$(origin VERSION)),$(VERSION),current)

audit: ## Package versions inside the deployed image (VERSION=x for another), to check against advisories
	@docker image inspect $(WEB_IMAGE):$(AUDIT_TAG) >/dev/null 2>&1 \
		|| { echo "audit: no image $(WEB_IMAGE):$(AUDIT_TAG); run: make build VERSION=<version>" >&2; exit 1; }
	@echo "audit: Debian packages in $(WEB_IMAGE):$(AUDIT_TAG)"
	@docker run --rm --entrypoint dpkg-query $(WEB_IMAGE):$(AUDIT_TAG) \
		-W -f '$${Package} $${Version}\n' python3 python3-prometheus-client libssl3 2>/dev/null \
		|| echo "audit: not a Debian-based image; run pip-audit inside it"

dev: ## Run the service as a local process on 127.0.0.1:$(PORT) (dev config)
	$(PYTHON) deploy/service/app.py --config deploy/config/dev.json --host 127.0.0.1 \
		--port $(PORT) --version dev

preview: ## Run the built image $(WEB_IMAGE):$(VERSION) alone on 127.0.0.1:$(PREVIEW_PORT)
	docker run --rm --network host --name $${MONKEYTOWN_PREFIX:-monkeytown}-preview \
		-e APP_HOST=127.0.0.1 -e APP_PORT=$(PREVIEW_PORT) $(WEB_IMAGE):$(VERSION)

clean: ## Clear build caches: Python caches and dangling service images
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +
	-docker image prune --force --filter label=org.opencontainers.image.title=monkeytown-web >/dev/null

down: ## Remove this sandbox's proxy and colour containers (images stay)
	@bash deploy/down.sh
