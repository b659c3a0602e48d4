# the0 runtime — task runner.
#
#   make run     build the agent and the example bot, `the0-agent run` it, answer queries
#   make test    everything CI runs: lint, Rust tests, conformance, every SDK's suite
#   make bench   benchmarks; each figure is printed beside its target (TARGETS.md)
#   make agent   the static, stripped the0-agent binary (printed path), checked in an empty root
#
# Build outputs go to $(CARGO_TARGET_DIR), outside the clone by default, so that a fresh clone on
# a warm machine reuses earlier builds. Set CARGO_TARGET_DIR to override.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export THE0_CACHE ?= $(HOME)/.cache/the0-runtime
export CARGO_TARGET_DIR ?= $(THE0_CACHE)/target
export CARGO_TERM_COLOR ?= never

# The agent binary for images: static glibc build (non-PIE, so file(1) says "statically linked"),
# rustls only, stripped.
AGENT_TARGET := x86_64-unknown-linux-gnu
AGENT_BIN := $(CARGO_TARGET_DIR)/$(AGENT_TARGET)/agent/the0-agent

# Crates whose tests run from their own SDK scripts (they need a host language runtime); clippy
# checks them with the rest.
BINDING_CRATES := --exclude the0-python --exclude the0-node

.PHONY: help run agent test deps bench lint test-rust test-agent-static test-ffi test-node test-python test-conformance bench-rust bench-node bench-python build

help:
	@sed -n 's/^#   //p' Makefile

build:
	cargo build --workspace

run:
	scripts/run-example.sh

agent:
	RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static' cargo build --profile agent --target $(AGENT_TARGET) -p the0-agent
	scripts/check-static-agent.sh $(AGENT_BIN)
	@echo "$(AGENT_BIN)"

test: lint deps test-rust agent test-agent-static test-ffi test-node test-python test-conformance

# The agent's integration tests once more, on the static binary that ships in images.
test-agent-static: agent
	THE0_AGENT_STATIC=$(AGENT_BIN) cargo test -p the0-agent --test '*'

# Servers the tests start: MinIO, built once with `go install` and cached outside the clone.
deps:
	scripts/ensure-minio.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust:
	cargo test --workspace $(BINDING_CRATES)

# The C ABI: C suite against libthe0.so and libthe0.a, valgrind memcheck, header drift check,
# and the conformance suite on the C driver.
test-ffi:
	sdk-ffi/scripts/test.sh

# Node/TypeScript SDK: node --test, the example bot, the conformance suite on the Node driver.
test-node:
	sdk-node/scripts/test.sh

# Python SDK: pip install ./sdk-python in a venv, the wheel, pytest, the example bot, conformance.
test-python:
	sdk-python/scripts/test.sh

# State written by each SDK's driver (Rust, C, Python, Node) is read back by every other's.
test-conformance: test-ffi test-node test-python
	tests/conformance/scripts/cross-read.sh

bench: bench-rust bench-node bench-python

bench-rust: deps agent
	cargo bench -p the0-sdk --bench state -- --noplot
	bench/query-rust.sh
	THE0_AGENT_STATIC=$(AGENT_BIN) cargo bench -p the0-agent --bench agent
	bench/query-front.sh

bench-node:
	sdk-node/scripts/bench.sh

bench-python:
	sdk-python/scripts/bench.sh
