# The two commands a new machine needs: `make run` and `make test`.
# Both create or refresh the virtual environment from pyproject.toml first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# A second environment without the desktop extra (no PySide6): the core and CLI tests run there.
CORE_VENV  := .venv-core
CORE_STAMP := $(CORE_VENV)/.installed
# Airlock installed from its wheel, as a site installs it: the smoke flow runs there.
INST_VENV  := .venv-installed
INST_STAMP := $(INST_VENV)/.installed
WHEEL_DIR  := build/wheel

.PHONY: run test venv lint test-core smoke bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[desktop,test]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ] && [ "$$QT_QPA_PLATFORM" != "offscreen" ]; then \
	  echo "No display found: Airlock's desktop needs a screen."; \
	  echo "  On a desktop session, run 'make run' from a terminal inside it."; \
	  echo "  On a headless machine: sudo apt-get install xvfb $(QT_XCB_PACKAGES) && xvfb-run make run"; \
	  echo "  The command line works without a screen: $(BIN)/airlock --help"; \
	  exit 1; \
	fi
	@missing=$$(ldd $(QT_XCB_PLUGIN) 2>/dev/null | awk '/not found/ {print $$1}' | tr '\n' ' '); \
	if [ -n "$$missing" ]; then \
	  echo "Qt's xcb plugin cannot load; missing libraries: $$missing"; \
	  echo "  On Debian or Ubuntu: sudo apt-get install $(QT_XCB_PACKAGES)"; \
	  exit 1; \
	fi
	$(BIN)/airlock-desktop

# Every Debian package the xcb plugin of PySide6's Qt loads (ldd on the plugin, libQt6XcbQpa and
# the GLX/EGL integrations, each library mapped to its package with dpkg -S), beyond a base system.
QT_XCB_PLUGIN   := $(VENV)/lib/python3.11/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so
QT_XCB_PACKAGES := libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 \
  libxcb-xkb1 libxcb-glx0 libx11-6 libx11-xcb1 libxkbcommon0 libxkbcommon-x11-0 libegl1 libgl1 \
  libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3

# Static checks; each new checker is one more line here.
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/ruff check .

# tests/core and tests/cli run in test-core (no PySide6); the full environment runs the rest.
test: $(STAMP) lint test-core smoke
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest --ignore=tests/core --ignore=tests/cli

# The core and CLI tests in an environment without PySide6. pytest-qt (in the test extra) stops
# pytest at start-up when no Qt binding is installed, so its plugin is switched off here.
$(CORE_STAMP): pyproject.toml
	@test -x $(CORE_VENV)/bin/python || $(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip install --quiet -e '.[test]'
	@touch $(CORE_STAMP)

test-core: $(CORE_STAMP)
	@! $(CORE_VENV)/bin/python -c 'import PySide6' 2>/dev/null || { echo "$(CORE_VENV) holds PySide6; run 'make clean'"; exit 1; }
	$(CORE_VENV)/bin/python -m pytest -p no:pytest-qt -q tests/core tests/cli tests/test_layering.py tests/test_guards.py tests/installed

# Build the wheel, install it (only it, once its dependencies are there) into $(INST_VENV), and
# run the smoke flow through the installed `airlock` command from a folder outside the source
# tree, then again with no network (tests/installed/smoke.py says what it checks).
$(INST_STAMP): pyproject.toml
	@test -x $(INST_VENV)/bin/python || $(PYTHON) -m venv $(INST_VENV)
	rm -rf build/lib build/bdist.* $(WHEEL_DIR)
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir $(WHEEL_DIR) .
	$(INST_VENV)/bin/python -m pip uninstall --quiet --yes airlock-ml 2>/dev/null || true
	$(INST_VENV)/bin/python -m pip install --quiet $(WHEEL_DIR)/airlock_ml-*.whl
	@touch $(INST_STAMP)

smoke: $(STAMP) $(INST_STAMP)
	rm -rf build/lib build/bdist.* $(WHEEL_DIR)
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir $(WHEEL_DIR) .
	$(INST_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps $(WHEEL_DIR)/airlock_ml-*.whl
	$(BIN)/python tests/installed/smoke.py --venv $(INST_VENV) --wheel $(WHEEL_DIR)

bench: $(STAMP)
	$(BIN)/python benchmarks/store_bench.py
	$(BIN)/python benchmarks/cold_start_bench.py

clean:
	rm -rf $(VENV) $(CORE_VENV) $(INST_VENV) build *.egg-info .pytest_cache
