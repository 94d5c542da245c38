# PlugMessage: `make run` starts the whole system, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
PORT ?= 8000

.PHONY: install run test migrate demo fmt clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: export DEBUG ?= 1
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: export WEBHOOKS_ALLOW_LOOPBACK ?= 1
run: install
	$(BIN)/python manage.py migrate --noinput
	@echo "Logins de demonstração:"
	@$(BIN)/python manage.py demo_setup
	@$(BIN)/python manage.py billing_demo_setup
	@echo ""
	@echo "PlugMessage em http://127.0.0.1:$(PORT)/  (admin em http://127.0.0.1:$(PORT)/admin/)"
	@echo "Ctrl-C encerra o site, o worker e o beat."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --port $(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var
