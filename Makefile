# socklab — socket programming labs in C, with tests that grade them.
#
#   make check LAB=01        the student's loop: build and test one lab of skeletons/, with a score
#   make grade               every lab of an implementation tree (IMPL=solutions for the reference)
#   make test                the kit's own test suite (the reference passes, skeletons fail, ...)
#   make clean               remove what the build left behind
#
# Every target first installs what it needs from Debian (grader/install-deps.sh).

SHELL := /bin/bash
PYTHON := /usr/bin/python3
SOCKLAB := ./socklab
IMPL ?= skeletons
LAB ?=
JOBS ?=

.PHONY: all help deps deps-test check grade test clean

all: help

help:
	@sed -n '3,9p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@grader/install-deps.sh core

deps-test:
	@grader/install-deps.sh test

check: deps
	@if [ -z "$(LAB)" ]; then echo "usage: make check LAB=01   (labs: $$(ls labs | grep -E '^[0-9]' | tr '\n' ' '))" >&2; exit 2; fi
	$(SOCKLAB) test $(LAB) --impl skeletons

grade: deps
	$(SOCKLAB) test --impl $(IMPL) $(if $(JOBS),-j $(JOBS))

test: deps-test
	$(PYTHON) -m pytest -q tests

clean:
	rm -rf build out release .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
