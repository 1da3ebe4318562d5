# socklab — socket programming labs in C, with tests that grade them.
#
#   make class               the main job: grade the sample class (examples/), print the gradebook
#   make check LAB=01        the student's loop: build and test one lab of skeletons/, with a score
#   make grade               every lab of an implementation tree (IMPL=solutions for the reference)
#   make test                the kit's own test suite (the reference passes, skeletons fail, ...)
#   make bench               benchmarks: labs 06, 08 and 09 beside TCP and TFTP, the relay, a class
#   make docs                the course as a static HTML site in build/site/ (offline, pandoc)
#   make release             the student tree (no solutions, no hidden tests) in release/
#   make check-devcontainer  build .devcontainer/ with podman and run make test inside (slow, root)
#   make clean               remove what the build left behind
#
# Every target first installs what it needs from Debian (grader/install-deps.sh).

SHELL := /bin/bash
PYTHON := /usr/bin/python3
SOCKLAB := ./socklab
IMPL ?= skeletons
LAB ?=
JOBS ?=
# One line, not a traceback, when /usr/bin/python3 is older than 3.11 (Ubuntu 22.04 has 3.10).
PYTHON_CHECK := grader/python-check --missing-ok

CLASS_DIR := build/example-class
CLASS_OUT := out/example-class

.PHONY: all help deps deps-test class check grade test bench docs release clean check-devcontainer

all: help

help:
	@sed -n '3,14p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@$(PYTHON_CHECK) && grader/install-deps.sh core

deps-test:
	@$(PYTHON_CHECK) && grader/install-deps.sh test

class: deps
	$(PYTHON) examples/make_class.py $(CLASS_DIR)
	$(SOCKLAB) grade $(CLASS_DIR) -o $(CLASS_OUT) $(if $(JOBS),-j $(JOBS))

check: deps
	@if [ -z "$(LAB)" ]; then $(PYTHON) -m grader.make_usage check; exit 2; fi
	$(SOCKLAB) test $(LAB) --impl skeletons

grade: deps
	$(SOCKLAB) test --impl $(IMPL) $(if $(JOBS),-j $(JOBS))

test: deps-test
	$(PYTHON) -m pytest -q tests

bench:
	@$(PYTHON_CHECK) && grader/install-deps.sh bench
	tests/bench/udp_done_bench.sh
	tests/bench/udp_window_bench.sh
	tests/bench/tftp_bench.sh
	$(PYTHON) tests/bench/relay_bench.py
	$(PYTHON) tests/bench/class_bench.py --labs 01 --sizes 25 50 100
	$(PYTHON) tests/bench/speed_bench.py

docs:
	@$(PYTHON_CHECK) && grader/install-deps.sh docs
	docs/build-site.sh

release: deps
	$(SOCKLAB) release -o release

# Not part of test: it downloads a Debian base and the kit's packages, and takes about an hour.
check-devcontainer:
	tests/devcontainer/check.sh

clean:
	rm -rf build out release .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
