# the0 runtime — task runner.
#
#   make run     build the agent and the example bot, `the0-agent run` it, answer queries
#   make test    everything CI runs: lint, Rust tests, conformance, every SDK's suite
#   make bench   benchmarks; each figure is printed beside its target (TARGETS.md)
#   make agent   the static, stripped the0-agent binary (printed path), checked in an empty root
#   make images  the images the0-runtime:<version> (universal) and the0-agent:<version>, offline
#   make test-images  every example bot end to end in the universal image (Docker, MinIO)
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
# The image tests need a Docker engine and the images: `make test-images` runs them.
E2E_CRATES := --exclude the0-e2e

.PHONY: help run agent images test deps bench lint test-rust test-agent-static test-ffi test-node test-python test-csharp test-haskell dist-haskell test-conformance test-images bench-rust bench-node bench-python bench-csharp bench-haskell bench-images build

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

# The universal and agent-only images (images/README.md). Starts dockerd when none answers (and
# stops it again); the base root is cached in $(THE0_CACHE)/images.
images: agent
	scripts/dockerd.sh with images/build.sh $(AGENT_BIN)

test: lint deps test-rust agent test-agent-static test-ffi test-node test-python test-csharp test-haskell test-conformance test-images

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
	cargo test --workspace $(BINDING_CRATES) $(E2E_CRATES)

# C# SDK: Mono and the .NET 8 runtime, the SDK's tests, the ABI check, an upstream-style bot, the
# example bot, the conformance suite on both runtimes, the NuGet package installed from a scratch feed.
test-csharp:
	sdk-csharp/scripts/test.sh

# The images end to end (tests/e2e): images under a private tag, every example bot in the
# universal image with MinIO, on a Docker engine started when none answers.
test-images: deps agent
	tests/e2e/run.sh test $(AGENT_BIN)

# The C ABI: C suite against libthe0.so and libthe0.a, valgrind memcheck, header drift check,
# and the conformance suite on the C driver.
test-ffi:
	sdk-ffi/scripts/test.sh

# Node/TypeScript SDK: node --test, vitest in worker threads, the upstream-style bot's vitest and
# jest suites (tests/upstream/node), the example bot, the conformance suite on the Node driver.
test-node:
	sdk-node/scripts/test.sh

# Python SDK: pip install ./sdk-python in a venv, the wheel, pytest, the upstream-style bot's suite
# (tests/upstream/python), the example bot, conformance.
test-python:
	sdk-python/scripts/test.sh

# Haskell SDK: hspec, the conformance suite on the Haskell driver, the example bot, the sdist
# installed outside the clone (Debian's GHC, offline).
test-haskell:
	sdk-haskell/scripts/test.sh

# The Haskell SDK's distributable: the sdist and libthe0.a (printed), checked by installing them
# outside the clone and building an upstream-style bot against them.
dist-haskell:
	sdk-haskell/scripts/sdist-check.sh

# State written by each SDK's driver is read back by every other's.
test-conformance: test-ffi test-node test-python test-csharp test-haskell
	tests/conformance/scripts/cross-read.sh

bench: bench-rust bench-node bench-python bench-csharp bench-haskell bench-images

bench-rust: deps agent
	cargo bench -p the0-sdk --bench state -- --noplot
	bench/query-rust.sh
	THE0_AGENT_STATIC=$(AGENT_BIN) cargo bench -p the0-agent --bench agent
	bench/query-front.sh

bench-node:
	sdk-node/scripts/bench.sh

bench-python:
	sdk-python/scripts/bench.sh

# A C# handler via the core on .NET 8 and on Mono, beside the Rust handler in the same run.
bench-csharp:
	sdk-csharp/scripts/bench.sh

bench-haskell:
	sdk-haskell/scripts/bench.sh

# Container start to bot started, image sizes, the agent's RSS in a container.
bench-images: deps agent
	tests/e2e/run.sh bench $(AGENT_BIN)
