# Vigil: the two commands a new machine needs are `make run` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make bundle` needs only the packaging extra (PyInstaller); `make test` installs it too (tests/packaging/test_bundle.py)
PACKAGING_STAMP := $(VENV)/.installed-packaging
# System packages the tests use (real peers, not mocks); installed with apt when run as root.
APT_PACKAGES := mosquitto mosquitto-clients socat openssl dosfstools fusefat  # fusefat: the export tests' FAT stick
APT_PACKAGES += poppler-utils  # pdftotext/pdftoppm: the handover tests read the PDFs they make
# The kiosk tests (tests/kiosk): a real X server with no window manager and its tools, the cage compositor and grim;
# libxcb-icccm4/libxcb-keysyms1: what Qt's xcb plugin needs; systemd: systemd-analyze for the unit files.
APT_PACKAGES += xvfb xinit x11-utils x11-xserver-utils unclutter imagemagick libxcb-icccm4 libxcb-keysyms1 \
	cage grim xwayland libwayland-client0 libwayland-cursor0 libwayland-egl1 systemd
ARGS ?=

.PHONY: run headless test lint lint-all fuzz bench screenshots clean system-deps sim-modbus bundle install-check

$(BIN)/python:
	$(PY) -m venv $(VENV)

# The tests train, run the offline plug-in and build the bundle (tests/packaging/test_bundle.py).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,train,offline,packaging]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py --simulate $(ARGS)

headless: $(STAMP)
	$(BIN)/python main.py --headless --simulate $(ARGS)

# The simulated station as a Modbus TCP server; then, in another shell: make run ARGS="--source modbus"
sim-modbus: $(STAMP)
	$(BIN)/python -m acquisition.simulator --modbus-tcp 127.0.0.1:5020 $(ARGS)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "The tests need system packages:$$missing"; echo "Run: sudo apt-get install -y$$missing"; exit 1; fi; \
	fi

# The lint and type gates (ruff, then mypy; settings in pyproject.toml) over the whole tree. `make test` runs `lint`
# first, so CI fails on a finding. `lint-all` is kept as an alias of `lint`.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy app acquisition detection bench main.py tests $(wildcard common)

lint-all: lint

test: lint system-deps
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# The bad-input suite with a long budget (make test runs the same tests with a short one).
fuzz: $(STAMP) system-deps
	QT_QPA_PLATFORM=offscreen VIGIL_HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/fuzz -m fuzz --timeout 0 -o faulthandler_timeout=0 $(PYTEST_ARGS)

# The gateway's one-folder bundle from packaging/vigil.spec (PyInstaller): dist/vigil/vigil and its _internal folder,
# which install.sh copies to /opt/vigil. About 1.5 min on 2 cores; size and start-up: packaging/README.md.
$(PACKAGING_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[packaging]'
	touch $(PACKAGING_STAMP)

bundle: $(PACKAGING_STAMP)
	$(BIN)/python -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/vigil.spec
	@du -sh dist/vigil

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

# packaging/install.sh in a throw-away root and a private mount namespace (root needed; docs/install.md)
install-check: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest tests/packaging $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache build dist

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m app.ui.screenshots
