# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_USE_NPM := 1

.PHONY: run test lint format install install-dev system-deps chromium clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt constraints.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt constraints.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: embedded PostgreSQL (unless DATABASE_URL is set), migrations, demo workspace, app on :3000
run: install
	@$(MAKE) --no-print-directory system-deps OCR_OPTIONAL=1
	$(PY) -m runtime run

## make test: ruff (format + lint) and the whole pytest suite, browser tests included
test: install-dev system-deps chromium
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Debian tools the product uses: tesseract with Portuguese data (OCR), ffmpeg (voice notes to and
# from OGG/Opus) and espeak-ng (offline voice; the tests make Portuguese speech with it).
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-por ffmpeg espeak-ng
system-deps:
	@if command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx por \
		&& command -v ffmpeg >/dev/null && command -v espeak-ng >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ]; then \
		echo "installing $(SYSTEM_PACKAGES) with apt..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "missing system packages: sudo apt-get install $(SYSTEM_PACKAGES)" >&2; \
		[ "$(OCR_OPTIONAL)" = "1" ] || exit 1; \
	fi

# Browser tests drive Debian's Chromium (never a downloaded browser build).
chromium:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ]; then \
		echo "installing chromium with apt..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
		echo "chromium is missing: run 'sudo apt-get install chromium chromium-driver' (browser tests need it)" >&2; exit 1; \
	fi

clean:
	rm -rf .web .states
