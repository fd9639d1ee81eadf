# CarBot Werkstatt – the two commands of the README live here: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export QT_QPA_PLATFORM ?= $(if $(DISPLAY)$(WAYLAND_DISPLAY),,offscreen)

.PHONY: run test lint typecheck imports unit bench bundle screenshots i18n clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[desktop,server,dev]'
	touch $(STAMP)

venv: $(STAMP)

## make run – set up and start the desktop app on the local SQLite database (demo workshop on first start)
run: $(STAMP)
	$(BIN)/carbot gui --demo-if-empty

## make test – set up and pass the whole suite: lint, types, import contracts, tests (incl. slow ones)
test: $(STAMP) lint typecheck imports unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy app drivers sync

imports: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

bundle: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller installer/carbot.spec

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m ui.screenshots docs/screenshots

i18n: $(STAMP)
	$(BIN)/python -m app.i18n_tools extract
	$(BIN)/python -m app.i18n_tools update
	$(BIN)/python -m app.i18n_tools compile

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
