# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv if it is missing and installs labelmill into it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
HASH := $(shell cksum < pyproject.toml | cut -d' ' -f1)
# Each target installs the extras it uses (pyproject.toml); a stamp per set and pyproject version.
EXTRAS_demo := images,audit,harmonize
EXTRAS_test := test
DEMO_STAMP := $(VENV)/.installed-demo-$(HASH)
STAMP := $(VENV)/.installed-test-$(HASH)

$(VENV)/.installed-%-$(HASH): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e ".[$(EXTRAS_$*)]"
	rm -f $(VENV)/.installed-$*-* && touch $@

.PHONY: install demo test lint bench
install: $(STAMP)

demo: $(DEMO_STAMP)
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
