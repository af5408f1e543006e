# The two commands a newcomer needs: `make run` and `make test`. Everything they need is installed
# by these targets (Go modules come from the module proxy on first build).

GO        ?= go
BIN       := bin/anpr
DATA      ?= data
DEMO_READS ?= 1000000
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
export ANPR_DATA_DIR := $(DATA)

.PHONY: all build run test test-go fuzz bench lint clean demo-data

all: build

build:
	$(GO) build -o $(BIN) ./api

# First run seeds a demo database (about $(DEMO_READS) reads, ~1 min) and makes a demo ingest key;
# later runs reuse both. Ctrl-C stops the server gracefully.
run: build demo-data
	@echo
	@echo "  Demo ingest key (for POST /api/v1/reads:bulk): $$(cat $(DATA)/ingest-demo.key)"
	@echo "  e.g. $(BIN) seed --reads 10000 --seed 7 --ndjson /tmp/r.ndjson && \\"
	@echo "       ANPR_INGEST_API_KEY=$$(cat $(DATA)/ingest-demo.key) $(BIN) ingest --server http://127.0.0.1:8080 /tmp/r.ndjson"
	@echo
	ANPR_INGEST_API_KEY_SHA256=$$(cat $(DATA)/ingest-demo.key.sha256) $(BIN) serve

demo-data: build
	@mkdir -p $(DATA)
	@if [ ! -f $(DATA)/ingest-demo.key ]; then \
		echo "anpr_demo_$$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" > $(DATA)/ingest-demo.key; \
		chmod 600 $(DATA)/ingest-demo.key; \
		tr -d '\n' < $(DATA)/ingest-demo.key | sha256sum | cut -d' ' -f1 > $(DATA)/ingest-demo.key.sha256; \
	fi
	@if [ ! -f $(DATA)/.seeded ]; then \
		echo "Seeding the demo database with $(DEMO_READS) synthetic reads (first run only)..."; \
		$(BIN) seed --reads $(DEMO_READS) && touch $(DATA)/.seeded; \
	fi

# Every test: vet, unit and conformance tests, the fuzz seed corpora (run as ordinary tests), and
# the CLI end-to-end tests in api/.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Short coverage-guided fuzzing of every fuzz target (not part of `make test`: it is open-ended).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
		done; \
	done

# Benchmark at 10M reads (about 10 minutes on 2 cores); writes docs/benchmarks.md.
BENCH_READS ?= 10000000
bench: build
	$(BIN) bench --reads $(BENCH_READS) --markdown docs/benchmarks.md --json docs/benchmarks.json

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin
