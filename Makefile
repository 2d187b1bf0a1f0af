# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv if it is missing and installs labelmill into it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

.PHONY: install demo test lint bench
install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/labelmill build --config sample_data/build.yaml
	$(VENV)/bin/labelmill audit demo-out --output demo-out/audit
	@echo "shards: demo-out/shards  manifest: demo-out/manifest/  index: demo-out/index.json"
	@echo "audit:  demo-out/audit/index.html"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) lint
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/build_throughput.py
