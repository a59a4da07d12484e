# Everyday commands. `make demo` and `make test` create .venv when missing and install the
# project from this repo first, so both work on a fresh clone.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# checkov pins an old boto3, so it lives in its own virtual environment, made once.
CHECKOV_VERSION := 3.2.533
CHECKOV_VENV    := .venv-checkov
CHECKOV         := $(CHECKOV_VENV)/bin/checkov

.PHONY: lock demo test unit integration e2e chromium bench bench-energy bench-forecast bench-api serve lint format lint-iac deploy-check java clean help

help:
	@echo "make demo         run the demo pipeline on generated sample data (local runtime)"
	@echo "make test         run the whole test suite (unit, integration, e2e)"
	@echo "make unit|integration|e2e   one layer of it"
	@echo "make bench        time ingest/transform/sync (shared years + 10 SAMPLE years)"
	@echo "make bench-energy energy company Glue job on 1, 10 and 30 M transactions vs DuckDB (rows/s, ratio, peak memory)"
	@echo "make bench-forecast  forecaster training time and inference latency (p50/p99)"
	@echo "make bench-api    API load test on loopback: p50/p99 and req/s of /ask and /forecast (1 and 10 years)"
	@echo "make serve        run the API (http://127.0.0.1:8000/docs) and the web app (http://127.0.0.1:8501)"
	@echo "make lint|format  ruff"
	@echo "make lint-iac     datalake deploy check --env dev|prod (static rules, cfn-lint, checkov in .venv-checkov) + the CloudFormation tests"
	@echo "make deploy-check datalake deploy check --env dev|prod only (the suite runs the same checks)"
	@echo "make lock         pin .venv's versions into constraints.txt (what fresh clones install)"
	@echo "make clean        remove .lake (the local lake) and caches; keeps .venv"

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing datalake and its dependencies into $(VENV) (the first time takes a few minutes)..."
	$(BIN)/python -m pip install --quiet --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

java: $(STAMP)
	@$(BIN)/datalake doctor

demo: java
	$(BIN)/datalake demo

# The suite runs on TEST_WORKERS processes (pytest-xdist, one per core of a 2-core CI machine;
# loadfile keeps each module on one worker, in order, as its module-scoped fixtures expect):
# most integration time is Spark and subprocess latency, which two workers overlap.
# --no-loadscope-reorder hands the modules out in collection order, which tests/conftest.py sorts
# slow tests first; xdist would otherwise reorder them by test count, leaving the long one-test
# modules (the out-of-memory job, the SQL guard fuzz) among the last ones handed out.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
# Bytecode is cached (in the ignored __pycache__/ folders) even where the environment sets
# PYTHONDONTWRITEBYTECODE, as this build machine's does: otherwise each worker rewrote every test
# module's asserts on each run (a third of collecting), and each process the suite starts (the CLI,
# Spark's Python workers, job subprocesses) compiled the package again.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest

# The suite runs the deploy checks itself (tests/unit/test_deploy_check.py: dev and prod, with
# checkov), so make test only makes sure checkov is there; make deploy-check runs them alone.
test: java $(CHECKOV) chromium
	$(PYTEST) $(XDIST)

unit: $(STAMP)
	$(PYTEST) -m unit

integration: java
	$(PYTEST) $(XDIST) -m integration

e2e: java chromium
	$(PYTEST) -m e2e

# The web app's browser tests drive Debian's chromium through Playwright (browsers cannot be
# downloaded here): installed with apt when missing, through sudo when not root.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else echo "error: chromium is missing and this is not root (no sudo): apt-get install chromium" >&2; exit 2; fi; \
		echo "installing Debian's chromium with apt (the browser tests drive it)..."; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

bench: java
	$(BIN)/python benchmarks/pipeline.py

bench-energy: java
	$(BIN)/python benchmarks/energy_company.py

bench-forecast: $(STAMP)
	$(BIN)/python benchmarks/forecaster.py

bench-api: $(STAMP)
	$(BIN)/python benchmarks/api.py

# The API and the web app together; Ctrl-C stops both.
API_PORT ?= 8000
UI_PORT ?= 8501
serve: $(STAMP)
	@echo "API:     http://127.0.0.1:$(API_PORT)/docs"
	@echo "web app: http://127.0.0.1:$(UI_PORT)"
	@API_PORT=$(API_PORT) $(BIN)/datalake ui --port $(UI_PORT) --api-url http://127.0.0.1:$(API_PORT) & ui=$$!; \
		trap 'kill $$ui 2>/dev/null' EXIT INT TERM; API_PORT=$(API_PORT) $(BIN)/datalake serve

# Pin the versions in .venv (after a green `make test`) so fresh clones install the same stack.
lock: $(STAMP)
	@{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' | grep -viE '^datalake==' | sed -E 's/\+[a-z0-9.]+$$//'; } > constraints.txt.new && mv constraints.txt.new constraints.txt
	@echo "constraints.txt: $$(grep -vc '^#' constraints.txt) pinned packages"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(CHECKOV):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found" >&2; exit 2; }
	@echo "creating $(CHECKOV_VENV) with checkov $(CHECKOV_VERSION) (once)..."
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --quiet checkov==$(CHECKOV_VERSION)

# Templates: `datalake deploy check` for each environment (the AWS rules the linters do not know,
# Glue's rules, fan-out, parameter values, cfn-lint with that environment's parameters (errors and
# warnings fail), checkov (skips only in-template, with a comment)), then the tests that read the
# templates and deploy them to moto. The packaged-code family is left to `datalake deploy check`
# before a deploy: a local build/ from an earlier package would make the tests depend on it.
deploy-check: $(STAMP) $(CHECKOV)
	$(BIN)/datalake deploy check --env dev --checkov $(CHECKOV) --skip package
	$(BIN)/datalake deploy check --env prod --checkov $(CHECKOV) --skip package

lint-iac: deploy-check
	$(BIN)/python -m pytest -q tests/unit/test_cloudformation.py tests/unit/test_deploy.py \
		tests/unit/test_deploy_check.py tests/unit/test_deploy_rules.py tests/unit/test_glue_crawler_rules.py \
		tests/integration/test_deploy_moto.py

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	-$(BIN)/datalake db stop 2>/dev/null
	rm -rf .lake .pytest_cache .ruff_cache spark-warehouse metastore_db derby.log
