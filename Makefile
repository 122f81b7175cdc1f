# Two commands set up a fresh machine:
#   make run    virtualenv + install + JupyterLab on notebooks/01 (the main job)
#   make test   virtualenv + install + system packages (chromium) + the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGINS := $(wildcard plugins/webhook-kit-*)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: run test install system-deps bench

$(VENV)/.installed: pyproject.toml $(wildcard plugins/*/pyproject.toml)
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[notebook,crypto,jwt,test]"
	for p in $(PLUGINS); do $(PY) -m pip install -q -e "$$p[test]" || exit 1; done
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) --ip=127.0.0.1 notebooks/01-design-a-listener.ipynb

# chromium renders the notebooks in the browser test; wrk drives the load benchmark
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v wrk >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium wrk \
	  || echo "could not install chromium/wrk: the browser test will skip"; \
	fi

test: $(VENV)/.installed system-deps
	$(PY) -m pytest

bench: $(VENV)/.installed system-deps
	$(PY) benchmarks/run_all.py
