# The two commands of the README: `make demo` and `make test`. Both do all their own set-up.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test bench lab deb clean

setup: $(VENV)/.installed lab

$(VENV)/.installed: pyproject.toml scripts/setup.sh scripts/debian-packages.txt
	bash scripts/setup.sh

lab:
	$(MAKE) -C lab/faxmodem

demo: setup
	bash scripts/demo.sh

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

deb: setup
	bash scripts/build-deb.sh

bench: setup
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
