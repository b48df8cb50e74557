PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck install clean diagram screens client

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/rebook demo

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/mypy rebooking_core conversations consent locales
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .

diagram: $(STAMP)
	$(BIN)/python -c "from conversations.engine import mermaid; open('docs/conversation.mmd','w').write(mermaid())"
	$(BIN)/python -c "from conversations.lifecycles import OUTBOX_LIFECYCLE as l; open('docs/outbox.mmd','w').write(l.mermaid())"
	$(BIN)/python -c "from conversations.lifecycles import ESCALATION_LIFECYCLE as l; open('docs/escalation.mmd','w').write(l.mermaid())"

# The Python client (clients/python, package rebook_client) from the app's OpenAPI document; a test fails when it is stale.
client: $(STAMP)
	$(BIN)/python clients/generate.py

# The passenger page at 375 px and 1280 px in English and Arabic (Debian's chromium: apt-get install chromium).
screens: $(STAMP)
	$(BIN)/python -m tests.e2e.page_screens

clean:
	rm -rf $(VENV) .rebook .pytest_cache .mypy_cache
