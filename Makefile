# Developer entry points. Every target that runs code sets up first (tools/setup.sh: cached, a couple
# of seconds when nothing changed). Run anything else in the environment with `tools/run CMD...`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTEST_ARGS ?= -q
DEMO_ARGS ?=
BENCH_ARGS ?= all

.PHONY: help setup build test demo bench clean distclean

help:
	@echo "make setup      .venv + Python deps + colcon build (tools/setup.sh, cached)"
	@echo "make build      colcon build only (after setup)"
	@echo "make test       pytest \$$PYTEST_ARGS (default: -q)"
	@echo "make demo       mmchat demo \$$DEMO_ARGS"
	@echo "make bench      python -m mmchat_bench \$$BENCH_ARGS (default: all)"
	@echo "make clean      remove build/ install/ log/ (keeps .venv)"
	@echo "make distclean  clean, and remove .venv"

setup:
	tools/setup.sh

build:
	tools/setup.sh --build-only

# pytest's own exit status is make's: 1 = failures, 5 = no tests collected; both fail the target.
test: setup
	tools/run pytest $(PYTEST_ARGS)

demo: setup
	tools/run mmchat demo $(DEMO_ARGS)

bench: setup
	tools/run python -m mmchat_bench $(BENCH_ARGS)

clean:
	rm -rf build install log

distclean: clean
	rm -rf .venv
