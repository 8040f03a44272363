# kotae — `make run` to chat, `make test` to check everything. Needs Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU build of torch lies on local disk; installing it first keeps pip from pulling CUDA.
TORCH := torch==2.13.0
# axe-core from npm checks the chat's accessibility (tests/test_browser_a11y.py); git ignores it.
AXE_VERSION := 4.14.1
AXE := tests/.axe/node_modules/axe-core/package.json
# llama.cpp's OpenAI-compatible server for the generated-answer tests (tests/llm_server.py), built
# from PyPI's sdist (about 4 minutes on 2 cores) once per machine: the wheel is kept outside the
# clone, so a fresh clone (CI's) reuses it. A native build compiles AVX-512/AMX code paths that
# crash on some of our CPUs on the first completion; these flags build portable AVX2 code.
LLAMA_VERSION := 0.3.36
LLAMA_FLAGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_WHEELS ?= $(HOME)/.cache/kotae/wheels/llama-cpp-python-avx2

.PHONY: help run test lint fix clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

$(VENV)/.app: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.app
	$(PY) -m pip install --quiet -e '.[test]'
	@ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="$(LLAMA_FLAGS)" $(PY) -m pip wheel --quiet --no-cache-dir --no-deps \
		--wheel-dir $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	$(PY) -m pip install --quiet --find-links $(LLAMA_WHEELS) --only-binary llama-cpp-python \
		'llama-cpp-python[server]==$(LLAMA_VERSION)'
	touch $@

run: $(VENV)/.app ## set up, build the index from seeds/, start the chat on http://127.0.0.1:7860
	$(VENV)/bin/qa build
	$(PY) app.py

test: $(VENV)/.test ## set up with the test extra, then run the whole test suite
	@# The browser tests drive Debian's chromium (playwright cannot download its own here)
	@# and need a CJK font so Japanese renders in screenshots; CI runs as root.
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-noto-cjk; fi
	@if ! command -v npm >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; fi
	@grep -qs '"version": "$(AXE_VERSION)"' $(AXE) || npm install --prefix tests/.axe --no-audit --no-fund --silent axe-core@$(AXE_VERSION)
	$(PY) -m pytest

lint: $(VENV)/.test ## ruff check and format check
	$(VENV)/bin/ruff check qa tests benchmarks app.py
	$(VENV)/bin/ruff format --check qa tests benchmarks app.py

fix: $(VENV)/.test ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix qa tests benchmarks app.py
	$(VENV)/bin/ruff format qa tests benchmarks app.py

clean: ## remove the virtualenv, axe-core and the built index
	rm -rf $(VENV) tests/.axe index/CURRENT index/gen-*
