# batchring — see README.md. Every target installs what it needs itself.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO        ?= go
BIN       := $(CURDIR)/bin
OUT       ?= $(CURDIR)/out
BENCHSTAT := $(BIN)/benchstat
BENCHSTAT_VERSION ?= v0.0.0-20260908200009-22c9c6c9d4da

# FUZZTIME_TEST is how much `make test` fuzzes each target; FUZZTIME is for `make fuzz`.
# `make test` counts inputs rather than seconds: go1.26's fuzz coordinator can
# fail a target with a bare "context deadline exceeded" when a duration ends
# while a starved worker is mid-input (golang/go#75804, fixed in Go 1.27); a
# count has no deadline to race, so a loaded CI machine only runs it slower.
FUZZTIME_TEST ?= 10000x
FUZZTIME      ?= 60s
# BENCH selects benchmarks for `make bench`; COUNT is -count (≥ 5 for benchstat).
BENCH     ?= .
COUNT     ?= 6
BENCHTIME ?= 1s

.PHONY: all run bench-tools test lint vet fmt-check tidy-check fuzz fuzz-short bench bench-peers benchstat clean peers-smoke

all: test

## run: the main job (see README): stand-in node on a free loopback port, single vs batched compare, report and plot in $(OUT).
run:
	GO=$(GO) BIN=$(BIN) OUT=$(OUT) bash bench/tools/run.sh

## bench-tools: loadgen --mode single against wrk, bombardier, vegeta and hey, closed loop, same stand-in and connections.
bench-tools:
	GO=$(GO) BIN=$(BIN) OUT=$(OUT) bash bench/tools/compare.sh

## test: gofmt, vet, race tests, every fuzz target briefly, and the peers module's benchmarks once each.
test: fmt-check vet
	$(GO) test -race -count=1 ./...
	@# The race detector replaces the ring's light single-producer commits
	@# (plain store + membarrier) with locked ones; run the ring once more
	@# without it so the light protocol is tested too.
	$(GO) test -count=1 ./ring
	@# The allocation tests are built only without the race detector (it
	@# allocates on its own); run them once more without it.
	$(GO) test -count=1 -run 'Alloc' ./...
	@$(MAKE) --no-print-directory fuzz-short
	@$(MAKE) --no-print-directory peers-smoke

## peers-smoke: vet bench/peers (its own module) and run each of its benchmarks once, so the side-by-side comparisons cannot rot unnoticed.
peers-smoke:
	cd bench/peers && $(GO) vet ./... && $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

tidy-check:
	$(GO) mod tidy -diff

lint: fmt-check vet tidy-check

# fuzz targets are found by name: every `func FuzzX(` in a _test.go file of this module.
define run_fuzz
	@targets=$$(grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | grep -v '^./bench/peers/' || true); \
	if [ -z "$$targets" ]; then echo "no fuzz targets yet"; fi; \
	for f in $$targets; do \
	  dir=$$(dirname $$f); \
	  for t in $$(grep -oE '^func Fuzz[A-Za-z0-9_]+' $$f | sed 's/^func //'); do \
	    echo "== fuzz $$dir $$t for $(1)"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(1) $$dir; \
	  done; \
	done
endef

fuzz-short:
	$(call run_fuzz,$(FUZZTIME_TEST))

## fuzz: every fuzz target for $(FUZZTIME).
fuzz:
	$(call run_fuzz,$(FUZZTIME))

$(BENCHSTAT):
	GOBIN=$(BIN) $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)

# Benchmarks run in $(COUNT) rounds of -count 1 rather than once with
# -count $(COUNT): each round measures every implementation side by side, so
# the slow drift of these shared VMs (the cost of moving a cache line between
# the two vCPUs changes 4x from minute to minute, see BenchmarkLineTransfer)
# lands on all of them alike instead of on whichever ran during a slow spell.
# Each round's CPU split (busy, idle, and the hypervisor's steal; building
# the test binaries counts as busy) goes to stderr and to $(1), so a slow
# round can be told from a slow change. It is informational: a failure to
# read it never fails the run.
define bench_rounds
	: > $(1); \
	for i in $$(seq $(COUNT)); do \
	  echo "# round $$i of $(COUNT)" >&2; \
	  s0=$$(head -1 /proc/stat 2>/dev/null || true); \
	  $(GO) test -p 1 -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count 1 ./...; \
	  s1=$$(head -1 /proc/stat 2>/dev/null || true); \
	  if [ -n "$$s0" ]; then { bash $(CURDIR)/bench/tools/cpustat.sh "round $$i" "$$s0" "$$s1" || true; } | tee -a $(1) >&2; fi; \
	done
endef

## bench: all benchmarks of the main module, $(COUNT) interleaved rounds, summarised by benchstat.
bench: $(BENCHSTAT)
	@mkdir -p $(OUT)
	$(call bench_rounds,$(OUT)/bench.cpu.txt) | tee $(OUT)/bench.txt
	$(BENCHSTAT) $(OUT)/bench.txt | tee $(OUT)/bench.benchstat.txt

## bench-peers: side-by-side benchmarks against peer libraries (separate module).
bench-peers: $(BENCHSTAT)
	@mkdir -p $(OUT)
	cd bench/peers && $(call bench_rounds,$(OUT)/bench-peers.cpu.txt) | tee $(OUT)/bench-peers.txt
	$(BENCHSTAT) $(OUT)/bench-peers.txt | tee $(OUT)/bench-peers.benchstat.txt

clean:
	rm -rf $(BIN) $(OUT)
