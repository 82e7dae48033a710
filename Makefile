# The two commands a new machine needs: `make run` and `make test`.
# Both create or refresh the virtual environment from pyproject.toml first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[desktop,test]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ] && [ "$$QT_QPA_PLATFORM" != "offscreen" ]; then \
	  echo "No display found: Airlock's desktop needs a screen."; \
	  echo "  On a desktop session, run 'make run' from a terminal inside it."; \
	  echo "  On a headless machine: apt-get install xvfb libxcb-cursor0 libxkbcommon-x11-0 && xvfb-run make run"; \
	  echo "  The command line works without a screen: $(BIN)/airlock --help"; \
	  exit 1; \
	fi
	$(BIN)/airlock-desktop

lint: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/store_bench.py
	$(BIN)/python benchmarks/cold_start_bench.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
