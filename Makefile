# Two entry points for people: `make demo` and `make test`. Both create .venv with
# nothing but `python3 -m venv` and pip, and install the project into it.
# System tools, not installed here: g++, make and perl (Verilator builds), and
# Icarus Verilog for the 4-state tests (`apt-get install iverilog`; .ci/run installs
# it where missing, and the Icarus tests are skipped without it).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# YoWASP tools compile their WebAssembly once (~30 s); keep that cache stable.
export YOWASP_CACHE_DIR ?= $(HOME)/.cache/yowasp
STAMP  := $(VENV)/.installed

.PHONY: demo test venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,datasets,sweep]"
	touch $(STAMP)

# train -> emit -> verify -> report on digits; a re-run reuses unchanged stages.
demo: $(STAMP)
	$(BIN)/lutmesh flow --out build

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf build $(VENV)
