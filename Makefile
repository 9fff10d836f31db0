# Two commands set everything up: `make run` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PIP     := $(VENV)/bin/pip
FLASK   := $(VENV)/bin/flask --app wsgi
HOST    ?= 127.0.0.1
PORT    ?= 5000

.PHONY: install translations checkers run serve worker test lint bench clean mutate

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations checkers

## The accessibility and HTML checkers the tests use (axe-core, vnu-jar), from tests/node/package-lock.json.
checkers: tests/node/node_modules/.package-lock.json

tests/node/node_modules/.package-lock.json: tests/node/package.json tests/node/package-lock.json
	@if command -v npm >/dev/null; then cd tests/node && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; \
	  else echo "npm not found: the accessibility and HTML validity tests will skip"; fi

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d petition_app/translations

## Migrate, load the demo content once, and serve on http://$(HOST):$(PORT) (with the mail worker beside it).
run: install
	$(FLASK) db upgrade
	@test -f instance/.demo-loaded || ($(FLASK) demo load && touch instance/.demo-loaded)
	@echo "Serving on http://$(HOST):$(PORT); mails go to instance/mail/ unless MAIL_SERVER is set. Ctrl+C stops."
	@$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(VENV)/bin/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check petition_app tests bench wsgi.py

bench: install
	$(VENV)/bin/python bench/counter.py
	$(VENV)/bin/python bench/export.py
	$(VENV)/bin/python bench/password_reset.py
	$(VENV)/bin/python bench/slow_clients.py
	$(VENV)/bin/python bench/start_link_timing.py
	$(VENV)/bin/python bench/load.py --short

## Mutation testing of the core rules (not in CI; slow). MUTATE=petition_app.privacy* limits it to one module.
MUTATE ?=
mutate: install
	nice $(VENV)/bin/mutmut run --max-children $(or $(MUTATE_JOBS),1) $(MUTATE)
	$(VENV)/bin/mutmut results

## Update the message catalogue after changing user-facing strings.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o petition_app/translations/messages.pot .
	$(VENV)/bin/pybabel update -i petition_app/translations/messages.pot -d petition_app/translations

clean:
	rm -rf $(VENV) .pytest_cache
