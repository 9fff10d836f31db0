# Two commands set everything up: `make run` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PIP     := $(VENV)/bin/pip
FLASK   := $(VENV)/bin/flask --app wsgi
HOST    ?= 127.0.0.1
PORT    ?= 5000

.PHONY: install translations run serve worker test lint bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

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
	$(VENV)/bin/python bench/load.py --short

## Update the message catalogue after changing user-facing strings.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o petition_app/translations/messages.pot .
	$(VENV)/bin/pybabel update -i petition_app/translations/messages.pot -d petition_app/translations

clean:
	rm -rf $(VENV) .pytest_cache
