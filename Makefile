# the0 runtime — task runner.
#
#   make run     build the agent and the example bot, `the0-agent run` it, answer queries; then the
#                orchestrator runs it as a realtime and a scheduled bot in Docker, queried via its gateway
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
AGENT_RUSTFLAGS := -C target-feature=+crt-static -C relocation-model=static

# Crates whose tests run from their own SDK scripts (they need a host language runtime); clippy
# checks them with the rest.
BINDING_CRATES := --exclude the0-python --exclude the0-node
# The image and orchestrator tests need a Docker engine: `make test-images` and
# `make test-orchestrator` run them.
E2E_CRATES := --exclude the0-e2e --exclude the0-orchestrator

.PHONY: help run agent testbot images test deps deps-orchestrator bench lint test-rust test-agent-static test-orchestrator test-ffi test-node test-python test-csharp test-haskell dist-haskell test-scala test-cpp test-conformance test-images bench-rust bench-incsync bench-node bench-python bench-csharp bench-haskell bench-scala bench-cpp bench-images bench-orchestrator build test-k8s bench-k8s

help:
	@sed -n 's/^#   //p' Makefile

build:
	cargo build --workspace

run:
	scripts/run-example.sh
	scripts/run-orchestrator.sh

agent:
	RUSTFLAGS='$(AGENT_RUSTFLAGS)' cargo build --profile agent --target $(AGENT_TARGET) -p the0-agent
	scripts/check-static-agent.sh $(AGENT_BIN)
	@echo "$(AGENT_BIN)"

# The orchestrator's test bot, static like the agent (same flags and profile, so it shares its
# build), next to it.
testbot:
	RUSTFLAGS='$(AGENT_RUSTFLAGS)' cargo build --profile agent --target $(AGENT_TARGET) -p the0-orchestrator-testbot

# The universal and agent-only images (images/README.md). Starts dockerd when none answers (and
# stops it again); the base root is cached in $(THE0_CACHE)/images.
images: agent
	scripts/dockerd.sh with images/build.sh $(AGENT_BIN)

test: lint deps test-rust agent test-agent-static test-ffi test-node test-python test-csharp test-haskell test-scala test-cpp test-conformance test-images test-orchestrator test-k8s

# The agent's integration tests once more, on the static binary that ships in images.
test-agent-static: agent
	THE0_AGENT_STATIC=$(AGENT_BIN) cargo test -p the0-agent --test '*'

# Servers the tests start: MinIO, built once with `go install` and cached outside the clone.
deps:
	scripts/ensure-minio.sh

# The orchestrator's drop-in tests also start nats-server and a MongoDB-wire server (FerretDB).
deps-orchestrator: deps
	scripts/ensure-nats.sh
	scripts/ensure-ferretdb.sh

# The orchestrator against a real Docker engine (started when none answers), MinIO, FerretDB and
# nats-server: the static test bot in the universal image, containers on 127.0.0.1 only.
test-orchestrator: deps-orchestrator agent testbot
	orchestrator/tests/run.sh test $(AGENT_BIN)

# Kubernetes mode against a real control plane: kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd and kwok as the node, built once from the Go module proxy into
# ~/.cache/k8s-cp (scripts/k8s/prereqs.sh also installs openssl and curl when missing), started
# fresh on 127.0.0.1 for the run and stopped after it (scripts/k8s/with-cluster.sh).
K8S_TEST := cargo test -p the0-orchestrator --test k8s
test-k8s: deps
	scripts/k8s/prereqs.sh
	$(K8S_TEST) --no-run
	scripts/k8s/with-cluster.sh $(K8S_TEST) -- --ignored --test-threads 4

# 1,000 bots reconciled from empty (time, API requests, RSS) and spec change -> new Pod.
bench-k8s:
	scripts/k8s/prereqs.sh
	cargo bench -p the0-orchestrator --bench k8s --no-run
	scripts/k8s/with-cluster.sh cargo bench -p the0-orchestrator --bench k8s

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust:
	cargo test --workspace $(BINDING_CRATES) $(E2E_CRATES)

# C# SDK: Mono and the .NET 8 runtime, the SDK's tests, the ABI check, an upstream-style bot, the
# example bot, the conformance suite on both runtimes, the NuGet package installed from a scratch feed.
test-csharp:
	sdk-csharp/scripts/test.sh

# Scala SDK: mvn install (libthe0 in the jar, ScalaTest under Surefire), the jar installed outside
# the clone under an upstream-style bot, the example bot, the conformance suite on the Scala driver.
test-scala:
	sdk-scala/scripts/test.sh

# C++ SDK: CMake build (cargo builds the core), GoogleTest under CTest, the package (cmake --install,
# cpack) unpacked outside the clone, an upstream-style bot with add_subdirectory and find_package,
# the conformance suite and cross-reading on the C++ driver, the example bot.
test-cpp:
	sdk-cpp/scripts/test.sh

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
test-conformance: test-ffi test-node test-python test-csharp test-haskell test-scala test-cpp
	tests/conformance/scripts/cross-read.sh

bench: bench-rust bench-incsync bench-node bench-python bench-csharp bench-haskell bench-scala bench-cpp bench-images bench-orchestrator bench-k8s

bench-rust: deps agent
	cargo bench -p the0-sdk --bench state -- --noplot
	bench/query-rust.sh
	THE0_AGENT_STATIC=$(AGENT_BIN) cargo bench -p the0-agent --bench agent
	bench/query-front.sh

# Incremental state sync (issue 21): bytes sent, CPU and time until visible after a 1 KiB change
# in 1 GiB of state, beside a full upload; parallel vs single-stream cold start.
# THE0_BENCH_QUICK=1 for a small run.
bench-incsync: deps
	cargo bench -p the0-agent --bench incsync

bench-node:
	sdk-node/scripts/bench.sh

bench-python:
	sdk-python/scripts/bench.sh

# A C# handler via the core on .NET 8 and on Mono, beside the Rust handler in the same run.
bench-csharp:
	sdk-csharp/scripts/bench.sh

bench-haskell:
	sdk-haskell/scripts/bench.sh
# A Scala handler via the core (JVM 17), beside the Rust handler in the same run.
bench-scala:
	sdk-scala/scripts/bench.sh

# A C++ handler via the core, beside the Rust handler in the same run.
bench-cpp:
	sdk-cpp/scripts/bench.sh

# Container start to bot started, image sizes, the agent's RSS in a container.
bench-images: deps agent
	tests/e2e/run.sh bench $(AGENT_BIN)

# The orchestrator: gateway vs direct, warm pool vs cold container, N bots reconciled from empty
# (THE0_BENCH_BOTS, default 100), spec change -> container started.
bench-orchestrator: deps-orchestrator agent testbot
	orchestrator/tests/run.sh bench $(AGENT_BIN)
