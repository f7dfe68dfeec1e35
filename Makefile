# rehearsal — failure rehearsals for OAuth 2.0 / OpenID Connect systems.
#
#   make rehearse   the main job: the suites in parallel against the reference stack
#   make test       Go tests, then the suites, then selfcheck (what CI runs)
#   make setup      what both do first when needed: Debian packages, npm ci, SPA bundle, Go modules
#   make selfcheck  every defect is caught by the rehearsals that claim to catch it
#   make nightly    the whole catalogue, random order, flake attempts, dated folder, trend
#
# Every target does its own set-up, so both work on a fresh machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
GINKGO  := $(GO) tool ginkgo
OUT     ?= out
PROCS   ?= 2
CHROMIUM ?= /usr/bin/chromium-headless-shell
SPA_WEB := fixtures/spa/web
SPA_BUNDLE := fixtures/spa/dist/app.js
# Published JUnit XML schemas for the JUnit test, from the npm registry (never committed).
SCHEMAS := reports/testdata/schemas
SPA_SOURCES := $(shell find $(SPA_WEB)/src -type f 2>/dev/null) $(SPA_WEB)/build.mjs $(SPA_WEB)/package-lock.json
# Hard bound for a whole suite run: nothing may hang CI.
SUITE_TIMEOUT ?= 20m
NIGHTLY_TIMEOUT ?= 45m
# One folder per nightly run, named by its UTC start (names sort oldest first).
NIGHTLY_DIR ?= $(OUT)/nightly/$(shell date -u +%Y-%m-%dT%H%M%SZ)
# How many earlier nightly runs the trend covers.
TREND_RUNS ?= 14
REHEARSAL := $(GO) run ./cmd/rehearsal
GINKGO_FLAGS ?=
SELFCHECK_FLAGS ?=

.PHONY: help setup packages rehearse test gotest suites selfcheck bench lint nightly clean

help:
	@echo "make rehearse   run the rehearsals against the reference stack (reports in $(OUT)/)"
	@echo "make test       Go tests, the suites, and selfcheck"
	@echo "make setup      install what is missing (Chromium, npm packages, SPA bundle, Go modules)"
	@echo "make selfcheck  prove each named defect is caught"
	@echo "make nightly    the whole catalogue with retries into $(OUT)/nightly/<UTC time>/, plus a flake trend"
	@echo "make bench      benchmarks"
	@echo "make lint       gofmt and go vet"

setup: packages $(SPA_BUNDLE) $(SCHEMAS)/node_modules/.package-lock.json
	@$(GO) mod download
	@$(GO) build ./...

# Debian packages: the headless Chromium the suites drive, and xmllint for the JUnit schema test.
packages:
	@need=""; \
	[ -x "$(CHROMIUM)" ] || need="$$need chromium-headless-shell"; \
	command -v xmllint >/dev/null || need="$$need libxml2-utils"; \
	if [ -n "$$need" ]; then \
	  echo "setup: installing$$need with apt-get"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	fi
	@command -v node >/dev/null || { echo "setup: Node.js 20+ and npm are needed to build the SPA (apt-get install -y nodejs npm)"; exit 1; }

$(SPA_WEB)/node_modules/.package-lock.json: $(SPA_WEB)/package-lock.json
	@echo "setup: npm ci in $(SPA_WEB)"
	@cd $(SPA_WEB) && npm ci --no-audit --no-fund --loglevel=error

$(SCHEMAS)/node_modules/.package-lock.json: $(SCHEMAS)/package-lock.json
	@echo "setup: npm ci in $(SCHEMAS) (published JUnit schemas for go test ./reports)"
	@cd $(SCHEMAS) && npm ci --no-audit --no-fund --loglevel=error

$(SPA_BUNDLE): $(SPA_WEB)/node_modules/.package-lock.json $(SPA_SOURCES)
	@echo "setup: building the SPA bundle"
	@cd $(SPA_WEB) && npm run --silent build

# The main job: every suite in parallel against the reference stack. The reports are
# written even when rehearsals fail; the exit status is Ginkgo's.
rehearse: setup
	@rm -rf $(OUT)/evidence   # evidence is of this run's failures only
	@mkdir -p $(OUT)
	@rc=0; \
	REHEARSAL_OUT=$(abspath $(OUT)) $(GINKGO) -p --procs=$(PROCS) --timeout=$(SUITE_TIMEOUT) --poll-progress-after=150s \
	  --json-report=report.json --junit-report=ginkgo-junit.xml --output-dir=$(OUT) \
	  $(GINKGO_FLAGS) ./suites/... || rc=$$?; \
	$(REHEARSAL) report --out $(OUT) $(OUT)/report.json || { [ $$rc -ne 0 ] || rc=2; }; \
	echo "evidence of failed specs (if any): $(OUT)/evidence/"; \
	exit $$rc

gotest: setup
	$(GO) test -count=1 -timeout 15m $$($(GO) list ./... | grep -v /suites/)

suites: rehearse

# Each defect against the rehearsals that claim to catch it, and those rehearsals on the
# healthy stack. SELFCHECK_FLAGS='--defect NAME' checks one defect.
selfcheck: setup
	$(REHEARSAL) selfcheck --out $(OUT)/selfcheck --procs $(PROCS) $(SELFCHECK_FLAGS)

test: gotest suites selfcheck

# Nightly: the whole catalogue in random order, two attempts per spec (flakes are marked),
# progress reports for hangs, a hard bound; everything in one dated folder, then the
# reports with a trend over the earlier nightly folders (trend.md for a CI job summary).
nightly: setup
	@d=$(NIGHTLY_DIR); mkdir -p $$d; rc=0; \
	REHEARSAL_OUT=$$(realpath $$d) $(GINKGO) -p --procs=$(PROCS) --randomize-all --flake-attempts=2 \
	  --timeout=$(NIGHTLY_TIMEOUT) --poll-progress-after=150s --poll-progress-interval=30s \
	  --json-report=report.json --junit-report=ginkgo-junit.xml --output-dir=$$d \
	  $(GINKGO_FLAGS) ./suites/... || rc=$$?; \
	prev=""; for p in $(OUT)/nightly/*/; do \
	  p=$${p%/}; [ "$$p" != "$$d" ] && [ -f "$$p/report.json" ] && prev="$$prev $$p"; \
	done; \
	prev=$$(echo $$prev | tr ' ' '\n' | tail -n $(TREND_RUNS) | tr '\n' ' '); \
	trend=""; for p in $$prev; do trend="$$trend --trend $$p"; done; \
	$(REHEARSAL) report --title "rehearsal nightly $$(basename $$d)" --out $$d $$trend $$d/report.json || { [ $$rc -ne 0 ] || rc=2; }; \
	$(REHEARSAL) report trend $$prev $$d > $$d/trend.md || { [ $$rc -ne 0 ] || rc=2; }; \
	echo "nightly reports in $$d: junit.xml report.html trend.md evidence/"; \
	exit $$rc

bench: setup
	$(GO) test -run '^$$' -bench . -benchmem ./fixtures/... ./harness/... ./reports/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf $(OUT) $(SPA_WEB)/node_modules $(SCHEMAS)/node_modules fixtures/spa/dist/app.js*
