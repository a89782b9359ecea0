# Parley: one entry point for building, testing and running everything.
#   make demo   build and run parleyd + the chat demo (http://localhost:3000)
#   make test   install what is missing, build everything, run every suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

export NODE_PATH := /usr/share/nodejs
export NEXT_TELEMETRY_DISABLED := 1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

BUILD := build
CMAKE_NATIVE := cmake -S . -B $(BUILD)/native -G Ninja -DCMAKE_BUILD_TYPE=Release
CMAKE_ASAN := cmake -S . -B $(BUILD)/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=address,undefined
CMAKE_TSAN := cmake -S . -B $(BUILD)/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARLEY_SANITIZE=thread
CMAKE_FUZZ := cmake -S . -B $(BUILD)/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
              -DPARLEY_FUZZ=ON -DBUILD_TESTING=OFF
CMAKE_WASM := emcmake cmake -S . -B $(BUILD)/wasm -G Ninja -DCMAKE_BUILD_TYPE=Release \
              -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node

.PHONY: help setup native asan tsan wasm js demo-app demo cluster test test-native test-asan test-tsan test-wasm test-e2e test-fuzz test-js \
        test-package lint fuzz soak storm bench format format-check clean

help:
	@echo "make demo    build and run parleyd and the chat demo"
	@echo "make cluster PostgreSQL, Redis, three parleyd behind HAProxy, and the demo (docs/scaling.md)"
	@echo "make test    build everything and run every suite (installs what is missing)"
	@echo "make setup   install system packages and npm dependencies"
	@echo "make fuzz    run each fuzz target for FUZZ_RUNS executions (default 10 M, on every core)"
	@echo "make soak    10 000 connections, light traffic, 10 minutes: memory must stay flat"
	@echo "make storm   2 000 clients on a three-node cluster, one node killed: 99 % back within 10 s, nothing lost"
	@echo "make bench   run the benchmarks"
	@echo "make format  clang-format the C++ sources, Prettier the TypeScript"

setup:
	@scripts/setup.sh

$(BUILD)/native/build.ninja:
	$(CMAKE_NATIVE)
$(BUILD)/asan/build.ninja:
	$(CMAKE_ASAN)
$(BUILD)/tsan/build.ninja:
	$(CMAKE_TSAN)
$(BUILD)/fuzz/build.ninja:
	$(CMAKE_FUZZ)
$(BUILD)/wasm/build.ninja:
	$(CMAKE_WASM) >/dev/null

native: $(BUILD)/native/build.ninja
	cmake --build $(BUILD)/native
asan: $(BUILD)/asan/build.ninja
	cmake --build $(BUILD)/asan
# ThreadSanitizer: the multi-threaded parts, i.e. parleyd (its workers, the hub's
# shards, the storage and its threads) and the tests that drive it. The one
# list says what is built and what runs.
empty :=
space := $(empty) $(empty)
TSAN_TESTS := server_test limits_test storage_test conformance_test authorization_test handshake_test \
              exhaustion_test tenants_test lanes_test faults_test redis_connection_test cluster_test \
              hub_cluster_test
TSAN_TARGETS := parleyd $(TSAN_TESTS)
tsan: $(BUILD)/tsan/build.ninja
	cmake --build $(BUILD)/tsan --target $(TSAN_TARGETS)
wasm: $(BUILD)/wasm/build.ninja
	cmake --build $(BUILD)/wasm

# The npm package, rebuilt when its sources, the schemas or the WASM core change.
JS_INPUTS := $(shell find js-wrapper/src js-wrapper/scripts shared/schemas shared/tools client-wasm/tools -type f -not -path '*/generated/*' 2>/dev/null) \
             client-wasm/abi.json \
             js-wrapper/package.json js-wrapper/tsconfig.json
js-wrapper/dist/index.js: $(JS_INPUTS) $(BUILD)/wasm/client-wasm/parley-core.wasm
	npm run build -w @parley/realtime --silent
js: wasm
	@$(MAKE) --no-print-directory js-wrapper/dist/index.js

# The demo's production build, rebuilt when the demo or the package changes.
DEMO_INPUTS := $(shell find examples/chat-nextjs -type f -not -path '*/node_modules/*' -not -path '*/.next/*' \
                 -not -name 'next-env.d.ts' -not -name '*.tsbuildinfo' 2>/dev/null)
examples/chat-nextjs/.next/BUILD_ID: $(DEMO_INPUTS) js-wrapper/dist/index.js
	npm run build -w chat-nextjs --silent
demo-app: js
	@$(MAKE) --no-print-directory examples/chat-nextjs/.next/BUILD_ID

demo: setup native demo-app
	@scripts/demo.sh

# PostgreSQL, Redis, three parleyd behind HAProxy, and the demo (docs/scaling.md).
cluster: setup native demo-app
	@scripts/cluster.sh

test-native: native
	ctest --test-dir $(BUILD)/native --output-on-failure
test-asan: asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir $(BUILD)/asan --output-on-failure
# parleyd runs as a child of the tests: its reports go to files, and any file fails the run.
test-tsan: tsan
	rm -f $(BUILD)/tsan/tsan-report.*
	TSAN_OPTIONS="log_path=$(CURDIR)/$(BUILD)/tsan/tsan-report second_deadlock_stack=1" \
	  ctest --test-dir $(BUILD)/tsan -R '^($(subst $(space),|,$(strip $(TSAN_TESTS))))$$' \
	  --output-on-failure
	@if ls $(BUILD)/tsan/tsan-report.* >/dev/null 2>&1; then cat $(BUILD)/tsan/tsan-report.*; \
	  echo "test-tsan: ThreadSanitizer reported the races above"; exit 1; fi
test-wasm: wasm
	ctest --test-dir $(BUILD)/wasm --output-on-failure
# The campaign docs/security.md quotes: FUZZ_RUNS executions of every target,
# split over one process per core (about an hour and a half on two).
FUZZ_RUNS ?= 10000000
fuzz: $(BUILD)/fuzz/build.ninja
	cmake --build $(BUILD)/fuzz
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_JOBS=$$(nproc) scripts/fuzz.sh
# In `make test`: every target for FUZZ_SECONDS, a smoke run.
FUZZ_SECONDS ?= 10
test-fuzz: $(BUILD)/fuzz/build.ninja
	cmake --build $(BUILD)/fuzz
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# Outside `make test`: 10 000 connections with light traffic for 10 minutes
# (bench/soak.mjs; SOAK_SECONDS, SOAK_CONNECTIONS narrow it).
soak: native
	node bench/soak.mjs

# Outside `make test`: issue 15's reconnect storm (bench/storm.mjs). scripts/cluster.sh
# runs PostgreSQL, Redis, three parleyd and HAProxy; 2 000 clients send through it, one
# node is killed, and the run fails unless 99 % of the dropped clients are back within
# 10 s and no message was lost or duplicated. Results: bench/results/storm-<date>.json.
# STORM_CLIENTS, STORM_RATE, STORM_AFTER ... change it (see bench/storm.mjs).
storm: setup native
	node bench/storm.mjs

# bench: the codec micro-benchmarks, then the server comparison (bench/run.mjs, docs/performance.md):
# parleyd (memory and SQLite) against ws and Socket.IO, the client core's ingest rate and size.
# BENCH_ROUNDS, BENCH_SCENARIOS and BENCH_SERVERS narrow it (see bench/run.mjs).
bench: native js bench-tools
	$(BUILD)/native/bench/bench_codec --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
	node bench/run.mjs

# Only the server comparison.
bench-servers: native bench-tools
	node bench/run.mjs

# What the server comparison needs besides the build: the peers' npm packages (root
# devDependencies) and gnuplot for docs/performance.png.
bench-tools:
	@[ -f node_modules/ws/package.json ] && [ -f node_modules/socket.io/package.json ] || npm install --no-audit --no-fund
	@command -v gnuplot >/dev/null || { [ "$$(id -u)" = 0 ] && \
	  { apt-get install -y --no-install-recommends gnuplot-nox || \
	    { apt-get update && apt-get install -y --no-install-recommends gnuplot-nox; }; } || \
	  echo "bench: gnuplot is missing (apt-get install gnuplot-nox): no plot"; }
.PHONY: bench-servers bench-tools

# The wrapper's tests start the real parleyd, so they need the native build.
# CLIENT_SIZE_BUDGET (kB, gzip -9, glue + WASM) guards the release client's size (docs/client.md
# says where the bytes go, and why issue 16 moved it from 40 to 46).
CLIENT_SIZE_BUDGET ?= 46
test-js: native js
	npm test -w @parley/realtime --silent
	node scripts/client-size.mjs $(CLIENT_SIZE_BUDGET)
	@# The ingest benchmark still runs against the shipped package (a smoke run, no timing asserted).
	node bench/client/ingest.mjs 200 >/dev/null

# ESLint (eslint.config.mjs, type-aware: the demo is checked against the built package's types)
# and the type check of the e2e code, which nothing else compiles (Playwright strips types).
lint: js
	npx eslint --max-warnings 0 js-wrapper e2e examples/chat-nextjs
	npx tsc -p e2e/tsconfig.json

# The package as it would be published: npm pack, then the tarball's files, source maps and
# LICENSE, publint, arethetypeswrong (ESM-only profile), and Node running it as installed.
test-package: js
	node js-wrapper/scripts/check-package.mjs

test-e2e: native demo-app
	mkdir -p e2e/artifacts
	npx playwright test -c e2e/playwright.config.ts

test: setup
	$(MAKE) format-check
	$(MAKE) test-native
	$(MAKE) test-wasm
	$(MAKE) test-asan
	$(MAKE) test-tsan
	$(MAKE) test-fuzz
	$(MAKE) lint
	$(MAKE) test-js
	$(MAKE) test-package
	$(MAKE) test-e2e
	@echo "make test: all suites passed"

CPP_SOURCES = $(wildcard $(shell git ls-files --cached --others --exclude-standard -- '*.cpp' '*.hpp'))
# The TypeScript side: the package, the demo and the e2e tests (.prettierrc.json, .prettierignore).
PRETTIER_FILES := 'js-wrapper/**/*.{ts,tsx,mjs}' 'e2e/**/*.{ts,mjs}' 'examples/chat-nextjs/**/*.{ts,tsx,mjs}'
format:
	clang-format -i $(CPP_SOURCES)
	npx prettier --log-level warn --write $(PRETTIER_FILES)
format-check:
	@clang-format --dry-run --Werror $(CPP_SOURCES)
	@npx prettier --log-level warn --check $(PRETTIER_FILES) || \
	  { echo "format-check: run make format (Prettier) on the files above"; exit 1; }

clean:
	rm -rf $(BUILD) js-wrapper/dist js-wrapper/src/generated examples/chat-nextjs/.next e2e/artifacts e2e/test-results
