# Two commands a newcomer needs: `make run` (the service on this machine) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PYTHONPATH := layers/mailcore/python:.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: run test lint unit integration infrastructure e2e bench synth admin redrive clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

run: $(BIN)/activate  ## the whole service on localhost: SMTP 2525, HTTP 8080, moto 5001
	$(BIN)/python -m local $(ARGS)

test: lint  ## lint, then every test suite
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(BIN)/activate
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/mailcore/python/mailcore functions local scripts

unit integration infrastructure e2e: $(BIN)/activate
	$(BIN)/python -m pytest tests/$@

bench: $(BIN)/activate  ## figures for ingest, handler time, AWS requests, imports, API latency
	$(BIN)/python scripts/bench.py

synth: $(BIN)/activate  ## CloudFormation templates for every region in cdk.json, into cdk.out/
	$(BIN)/python -m cdk.app

clean:
	rm -rf $(VENV) cdk.out .local .pytest_cache .ruff_cache .mypy_cache

admin: $(BIN)/activate  ## e.g. make admin ARGS="domain add example.com"
	$(BIN)/python scripts/admin.py $(ARGS)

redrive: $(BIN)/activate  ## move the delivery dead-letter queue back onto the delivery queue
	$(BIN)/python scripts/redrive.py $(ARGS)
