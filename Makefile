# Shop Assistant. `make demo` runs the whole stack on the demo store; `make test` runs the suite.
# Both set up what they need first, and only what is missing or stale.

SHELL := /bin/bash
PYTHON311 ?= $(shell for p in python3.11 python3; do $$p -c 'import sys; assert sys.version_info[:2] == (3, 11)' >/dev/null 2>&1 && { echo $$p; break; }; done)
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
RASA_VENV := .venv-rasa
BIN := $(VENV)/bin
MODEL := models/current.tar.gz
# The MiniLM sentence encoder exported to ONNX for the Rasa pipeline's MiniLMFeaturizer.
ENCODER := models/encoder/minilm/model.onnx
# The catalog search's encoder derived from it: int8 where its vectors hold, else fp32 (assistant/encoder_quantize.py).
SEARCH_ENCODER := models/encoder/minilm-search/model.onnx
RASA_SOURCES := config.yml $(shell find domain -name '*.yml' 2>/dev/null) $(shell find data -name '*.yml' 2>/dev/null) $(wildcard rasa_addons/*.py)
DATA_DIR ?= var/demo

.DEFAULT_GOAL := help
.PHONY: help install demo test test-prod bench model encoder demo-store lint types clean browser haproxy lock locks-current helm-tools bench-tools

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# Both environments install from lock files with sha256 hashes (`make lock` regenerates them);
# pip refuses any file whose hash differs. torch==2.13.0+cpu is the wheel on these machines' disk.
$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON311)" || { echo "Python 3.11 is required (python3.11 or python3)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON311) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(RASA_VENV)/.installed: requirements-rasa.txt requirements-rasa.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required for Rasa 3.6 (python3.10, e.g. from pyenv)"; exit 1; }
	test -x $(RASA_VENV)/bin/python || $(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet --require-hashes -r requirements-rasa.lock
	touch $@

# Regenerate the lock files after changing a pin in pyproject.toml or requirements-rasa.txt
# (pip-tools in throwaway virtual environments, each on the Python it locks for).
LOCK_TOOLS := var/lock-tools
lock: ## regenerate requirements.lock and requirements-rasa.lock (with hashes) from the pins
	@test -n "$(PYTHON311)" -a -n "$(PYTHON310)" || { echo "Python 3.11 and 3.10 are required"; exit 1; }
	test -x $(LOCK_TOOLS)/py311/bin/pip-compile || { $(PYTHON311) -m venv $(LOCK_TOOLS)/py311 && $(LOCK_TOOLS)/py311/bin/pip install --quiet pip-tools==7.6.2; }
	test -x $(LOCK_TOOLS)/py310/bin/pip-compile || { $(PYTHON310) -m venv $(LOCK_TOOLS)/py310 && $(LOCK_TOOLS)/py310/bin/pip install --quiet pip-tools==7.6.2; }
	$(LOCK_TOOLS)/py311/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra test \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml
	$(LOCK_TOOLS)/py310/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file requirements-rasa.lock requirements-rasa.txt

locks-current: ## check that the lock files match pyproject.toml and requirements-rasa.txt
	$(or $(PYTHON311),python3) tools/check_locks.py

install: $(VENV)/.installed $(RASA_VENV)/.installed ## create both virtual environments (idempotent)

$(ENCODER): $(VENV)/.installed assistant/encoder_export.py rasa_addons/onnx_sentence_encoder.py
	$(BIN)/python -m assistant.encoder_export --out $(@D)

$(SEARCH_ENCODER): $(ENCODER) assistant/encoder_quantize.py
	$(BIN)/python -m assistant.encoder_quantize --source $(<D) --out $(@D)

encoder: $(ENCODER) $(SEARCH_ENCODER) ## export the MiniLM sentence encoder to ONNX for the NLU pipeline and the catalog search

$(MODEL): $(RASA_VENV)/.installed $(RASA_SOURCES) $(ENCODER)
	SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 $(RASA_VENV)/bin/rasa train --domain domain --out models --fixed-model-name current --num-threads 2
	touch $@

model: $(MODEL) ## train the Rasa model when data, domain or config changed

demo-store: $(VENV)/.installed $(SEARCH_ENCODER) ## generate the demo store if absent, import history, build the index if stale
	$(BIN)/shop-assistant --data-dir $(DATA_DIR) demo-store setup

demo: install model demo-store ## set up everything and run the stack on the demo store (Ctrl-C stops)
	$(BIN)/shop-assistant --data-dir $(DATA_DIR) up --demo

# Browser tests drive Debian's chromium (Playwright's own browser download is not used).
# The stamp is written only once chromium is there, so a run without root retries later.
BROWSER_STAMP := var/.chromium.stamp
$(BROWSER_STAMP):
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
			|| echo "Could not install chromium with apt-get; the browser tests will be skipped"; \
	else echo "Browser tests need Debian's chromium and will be skipped: run 'sudo apt-get install chromium'"; fi
	@if command -v chromium >/dev/null; then mkdir -p $(@D) && touch $@; fi

browser: $(BROWSER_STAMP) ## install Debian's chromium for the browser tests (apt-get, when missing)

# The production profile's load balancer is Debian's HAProxy, installed like chromium above.
HAPROXY_STAMP := var/.haproxy.stamp
$(HAPROXY_STAMP):
	@if command -v haproxy >/dev/null || test -x /usr/sbin/haproxy; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy \
			|| echo "Could not install haproxy with apt-get; the replicated production tests will be skipped"; \
	else echo "The replicated production tests need Debian's haproxy and will be skipped: run 'sudo apt-get install haproxy'"; fi
	@if command -v haproxy >/dev/null || test -x /usr/sbin/haproxy; then mkdir -p $(@D) && touch $@; fi

haproxy: $(HAPROXY_STAMP) ## install Debian's HAProxy for the production profile (apt-get, when missing)

# Deploy files (deploy/): `helm template` and `helm lint` run through Helm's Go SDK packaged on
# PyPI (no helm binary is packaged for Debian, PyPI or npm), hash-pinned in its own environment.
# The stamp is written only on success, so the chart tests skip (with a message) and a later run retries.
HELM_TOOLS := var/helm-tools
$(HELM_TOOLS)/.installed: deploy/helm-tools.lock
	@test -n "$(PYTHON311)" || { echo "Python 3.11 is required"; exit 1; }
	test -x $(HELM_TOOLS)/bin/python || $(PYTHON311) -m venv $(HELM_TOOLS)
	@if $(HELM_TOOLS)/bin/pip install --quiet --require-hashes -r deploy/helm-tools.lock; then touch $@; \
	else echo "Could not install helm-python-sdk; the Helm chart rendering tests will be skipped"; fi

helm-tools: $(HELM_TOOLS)/.installed ## install Helm's SDK for the chart tests (render + lint)

BENCH_TOOLS := var/bench-tools
$(BENCH_TOOLS)/.installed: bench/tools.lock
	@test -n "$(PYTHON311)" || { echo "Python 3.11 is required"; exit 1; }
	test -x $(BENCH_TOOLS)/bin/python || $(PYTHON311) -m venv $(BENCH_TOOLS)
	$(BENCH_TOOLS)/bin/pip install --quiet --require-hashes -r bench/tools.lock
	touch $@

bench-tools: $(BENCH_TOOLS)/.installed ## install py-spy for the turn profile of `make bench` (not needed by the app or tests)

test: lint types locks-current install model $(SEARCH_ENCODER) browser haproxy helm-tools ## lint and type-check, set up everything, run the whole test suite (production tests included)
	$(BIN)/python -m pytest

# Real PostgreSQL, Redis and RabbitMQ on loopback (SHOP_TEST_POSTGRES_URL, SHOP_TEST_REDIS_URL,
# SHOP_TEST_RABBITMQ_URL); each test skips with a message when its service is absent.
test-prod: install model $(SEARCH_ENCODER) haproxy ## run the production-profile suite (replicas behind HAProxy, real services)
	$(BIN)/python -m pytest -m production

bench: PREVIOUS_MODEL ?= models/previous.tar.gz
bench: install model demo-store bench-tools ## run the benchmarks, figures to bench/results/ (baseline model: PREVIOUS_MODEL)
	$(BIN)/python -m bench.search_bench --data-dir $(DATA_DIR)
	$(BIN)/python -m bench.search_quality --index-dir $(DATA_DIR)/index --catalog $(DATA_DIR)/catalog.jsonl
	-$(BIN)/python -m bench.search_real  # needs the fetched CrowdFlower and Best Buy data (bench/README.md); a set without it is skipped with a message
	-$(BIN)/python -m bench.search_freshness  # 100k real titles (CrowdFlower, as above); skipped with a message otherwise
	$(BIN)/python -m bench.search_scale --data-dir $(DATA_DIR)
	$(BIN)/python -m bench.embed_bench --data-dir $(DATA_DIR)
	$(BIN)/python -m bench.startup_bench --data-dir $(DATA_DIR)
	$(BIN)/python -m bench.chat_bench --data-dir $(DATA_DIR)
	$(BIN)/python -m bench.load_bench --data-dir $(DATA_DIR) --stock-dir var/bench/stock-bot
	$(BIN)/python -m bench.turn_profile --data-dir $(DATA_DIR) --stock-dir var/bench/stock-bot  # py-spy from bench-tools: CPU per hop, flame graphs
	-$(BIN)/python -m bench.load_replicas --data-dir $(DATA_DIR) --duration 60 --warmup 30  # needs PostgreSQL, Redis, RabbitMQ, HAProxy (make haproxy); says which is missing otherwise
	$(RASA_VENV)/bin/python bench/featurizer_bench.py
	$(BIN)/python -m bench.recommend_bench --data-dir $(DATA_DIR)
	$(BIN)/python -m bench.recommend_call --data-dir $(DATA_DIR)  # CPU of one recommend action call, with its profile
	$(RASA_VENV)/bin/python bench/nlu_eval.py --quiet $(if $(wildcard $(PREVIOUS_MODEL)),--previous-model $(PREVIOUS_MODEL))
	$(BIN)/python -m bench.dialogue_eval --data-dir $(DATA_DIR) $(if $(wildcard $(PREVIOUS_MODEL)),--previous-model $(PREVIOUS_MODEL))
	$(BIN)/python -m bench.plot
	$(BIN)/python -m bench.plot_nlu
	$(BIN)/python -m bench.plot_dialogue

lint: $(VENV)/.installed ## lint the code (ruff, lines up to 140 characters)
	$(BIN)/ruff check assistant actions catalog_index rasa_sdk_plugins rasa_addons tests bench tools

types: $(VENV)/.installed ## type-check (mypy: strict on catalog_index, assistant/store, assistant/recommend; pyproject.toml)
	$(BIN)/mypy

clean: ## remove trained models and generated stores (not the virtual environments)
	rm -rf models var/demo
