# gopy-socketserver: CPython 3.14's socketserver in Go and Python.
#
#   make demo   build everything and show every implementation at work
#   make test   every check and every test suite (what .ci/run calls)
#
# Both set themselves up: a .venv with the pinned tools from pyproject.toml
# (dependency group "dev"), Go modules through the module proxy.

SHELL       := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON      ?= python3
SHARED      ?= ../shared
VENV        := .venv
PY          := $(VENV)/bin/python
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GO_SOURCES  := $(shell find pkg pybind -name '*.go' 2>/dev/null)
PY_DIRS     := pyref tests pybind
EXT_SUFFIX  := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
EXT         := pybind/_gosocketserver$(EXT_SUFFIX)
EXT_DEPS    := $(GO_SOURCES) $(wildcard pybind/capi/*.[ch] pybind/glue/*.[ch] pybind/tooling/*.py) go.mod go.sum

.PHONY: all venv ext test lint typecheck go-check cross go-test pytest conformance pip-install-check demo bench clean wheels matrix

all: test

# --- set-up -----------------------------------------------------------------

$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check pip==26.3
	$(VENV)/bin/pip install --quiet --group dev
	touch $@

venv: $(VENV)/.stamp

# The CPython extension behind pybind/socketserver.py: the Go archive, the
# pybindgen-generated wrapper and the C glue, built into pybind/.
$(EXT): $(VENV)/.stamp $(EXT_DEPS)
	$(PY) pybind/tooling/gss_build.py

ext: $(EXT)

# --- checks -----------------------------------------------------------------

lint: venv
	$(VENV)/bin/ruff check $(PY_DIRS)
	$(VENV)/bin/ruff format --check $(PY_DIRS)

typecheck: venv
	$(VENV)/bin/mypy --strict pyref
	MYPYPATH=pybind $(VENV)/bin/mypy --strict pybind/socketserver.py pybind/__init__.py pybind/__main__.py
	bash tests/typing/stubtest.sh $(PY) $(SHARED)/reference/socketserver.pyi

go-check:
	@test -z "$$(gofmt -l pkg pybind)" || { echo "gofmt needed:"; gofmt -l pkg pybind; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# pkg/ on every platform CPython's socketserver runs on: go vet, a build and
# the test binaries, built but not run (go-test runs them, on Linux). cgo is
# off: the drop-in (pybind/) is Linux-only and not cross-built.
CROSS_TARGETS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64 windows/amd64

cross:
	@for t in $(CROSS_TARGETS); do \
	  echo "cross: $$t"; \
	  export GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0; \
	  $(GO) vet ./pkg/... && $(GO) build ./pkg/... && \
	  $(GO) test -c -o /dev/null ./pkg/... >/dev/null || exit 1; \
	done

# --- tests ------------------------------------------------------------------

# The shared scenarios (tests/scenarios.json, pkg/internal/scenario) run
# last, in the package's directory, so that go test shows their count.
go-test:
	$(GO) test -race -timeout 10m -count=1 $$($(GO) list ./... | grep -v /pkg/internal/scenario$$)
	cd pkg/internal/scenario && $(GO) test -race -timeout 10m -count=1

# pytest exits 5 when it collects nothing: that is a failure here, never a pass.
pytest: venv $(EXT)
	@rc=0; $(PY) -m pytest -q tests || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

# CPython's own 27 tests (3.14's and this interpreter's 3.11 copy) per implementation.
conformance: venv $(EXT)
	bash tests/tools/conformance.sh $(PY) $(SHARED) pyref/socketserver.py pybind/socketserver.py

# `pip install .` in a fresh venv gives a working drop-in.
pip-install-check:
	bash tests/tools/pip_install_check.sh $(PYTHON)

# The drop-in on every CPython it claims (tests/matrix/matrix.py): a wheel per
# interpreter (3.11, python3.12, python3.13; 3.14 and the Py_DEBUG 3.14d in the
# chroot of $(SHARED)/tools/py314, built or checked first, never left mounted),
# each installed into a fresh venv without Go or a compiler on PATH and run
# against CPython's own 27 tests and the shared suite (3.14: also pyref and
# stdlib314). One line per interpreter and implementation; a leg that cannot
# run here is one loud MISSING LEG line, a failure when CI=true.
PY314_ROOT  ?= /opt/cpython314-sid
MATRIX_ENV  := SHARED=$(SHARED) GO=$(GO) PYTHON=$(PYTHON) PY314_ROOT=$(PY314_ROOT)

matrix: venv
	$(MATRIX_ENV) $(PY) tests/matrix/matrix.py test

# dist/: a manylinux wheel of gopy_socketserver for CPython 3.11, 3.12, 3.13, 3.14.
wheels: venv
	$(MATRIX_ENV) $(PY) tests/matrix/matrix.py wheels

test: lint typecheck go-check cross go-test pytest conformance pip-install-check matrix
	@echo "make test: all checks passed"

# --- demo -------------------------------------------------------------------

demo: venv $(EXT)
	$(PY) tests/tools/demo.py
	GO=$(GO) $(PY) tests/bench/run.py --quick

# Every implementation under load, one after another (about 3 minutes on 2
# cores); BENCH_SECS sets the seconds per measurement. Writes bench-out/.
bench: venv $(EXT)
	GO=$(GO) $(PY) tests/bench/run.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache $(EXT)
