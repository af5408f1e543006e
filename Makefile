# The two commands a newcomer needs: `make run` and `make test`. Everything they need is installed
# by these targets (Go modules come from the module proxy on first build).

GO        ?= go
BIN       := bin/anpr
DATA      ?= data
DEMO_READS ?= 1000000
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
export ANPR_DATA_DIR := $(DATA)

.PHONY: all build run test fuzz bench lint clean demo-data dex es-dev

all: build

build: frontend
	$(GO) build -o $(BIN) ./api

PORT       ?= 8080
DEX_PORT   ?= 5556
DEX_SECRET ?= anpr-portal-demo-secret
# What `make run` and its demo data use: the bundled Dex as the identity provider, and plain http
# cookies, which the portal allows only on 127.0.0.1.
run demo-data: export ANPR_LISTEN := 127.0.0.1:$(PORT)
run demo-data: export ANPR_IDENTITY_ISSUER := http://127.0.0.1:$(DEX_PORT)/dex
run demo-data: export ANPR_IDENTITY_CLIENT_ID := anpr-portal
run demo-data: export ANPR_IDENTITY_CLIENT_SECRET := $(DEX_SECRET)
run demo-data: export ANPR_IDENTITY_ALLOW_INSECURE_COOKIES := true

# Builds the bundled identity provider once (about 2 minutes the first time), then reuses it.
dex:
	@deploy/dex/build.sh >/dev/null

# Starts Dex and the portal together; Ctrl-C stops both (the portal gracefully). The first run
# seeds a demo database (about $(DEMO_READS) reads), creates the audit signing key and a demo
# ingest API key; later runs reuse them.
run: build dex demo-data
	@mkdir -p $(DATA)/dex
	@DEX_CLIENT_SECRET=$(DEX_SECRET) deploy/dex/run.sh $(DEX_PORT) http://127.0.0.1:$(PORT)/auth/callback $(DATA)/dex >$(DATA)/dex.log 2>&1 & dex=$$!; \
	trap 'kill $$dex 2>/dev/null; wait $$dex 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	for i in $$(seq 1500); do curl -sf -o /dev/null http://127.0.0.1:$(DEX_PORT)/dex/.well-known/openid-configuration && break; \
	  kill -0 $$dex 2>/dev/null || { echo "Dex failed to start; see $(DATA)/dex.log"; exit 1; }; sleep 0.2; done; \
	echo; \
	echo "  ANPR portal:  http://127.0.0.1:$(PORT)     identity provider (Dex): http://127.0.0.1:$(DEX_PORT)/dex"; \
	echo "  Sign in:      http://127.0.0.1:$(PORT)/"; \
	echo "  Demo logins (email / password):"; \
	echo "    investigator@anpr.example    / investigator-demo     investigator (Constable)"; \
	echo "    extended@anpr.example        / extended-demo         extended-access investigator (Sergeant)"; \
	echo "    inspector@anpr.example       / inspector-demo        authorising officer (Inspector)"; \
	echo "    superintendent@anpr.example  / superintendent-demo   authorising officer (Superintendent)"; \
	echo "    auditor@anpr.example         / auditor-demo          auditor"; \
	echo "    manager@anpr.example         / manager-demo          ANPR manager"; \
	echo "  Demo ingest API key (scope reads:ingest): $$(cat $(DATA)/ingest-demo.key)"; \
	echo "  Public transparency report: http://127.0.0.1:$(PORT)/api/v1/transparency"; \
	echo; \
	$(BIN) serve

demo-data: build
	@mkdir -p $(DATA)
	@if [ ! -f $(DATA)/audit-keys/audit-signer.key ]; then $(BIN) audit keys init --name anpr-demo-audit; fi
	@if [ ! -f $(DATA)/.seeded ]; then \
		echo "Seeding the demo database with $(DEMO_READS) synthetic reads (first run only)..."; \
		$(BIN) seed --reads $(DEMO_READS) && touch $(DATA)/.seeded; \
	fi
	@if [ ! -f $(DATA)/ingest-demo.key ]; then $(BIN) apikey create --name "demo camera back-office" --out $(DATA)/ingest-demo.key; fi

# go test's own -timeout (10 minutes by default) would fail a slow but healthy package on a busy
# machine; every wait inside the tests is bounded by the liveness of what it waits for, and this
# only catches a hang.
TEST_TIMEOUT ?= 60m

# Every test: vet, unit and conformance tests, the fuzz seed corpora (run as ordinary tests), and
# the CLI end-to-end tests in api/, which sign every demo user in through the bundled Dex and
# through a real Keycloak (fetched from Maven Central by deploy/keycloak/fetch.sh and run with a
# Java 21+ found under /usr/lib/jvm; its start takes one minute on a quiet 2-core machine and up
# to nine on a loaded one). Without Java 21 or mvn the Keycloak tests print SKIPPED and the reason;
# ANPR_TEST_KEYCLOAK_REQUIRE=1 fails instead.
#
# The Elasticsearch conformance suite runs against a real node: the test fetches the
# integration-test distribution from Maven Central with mvn (once, into .cache/elasticsearch),
# starts it on a free port and stops it. Its verbose output is kept so the node's version and the
# features it lacks are printed. Without java or mvn it prints SKIPPED and the reason; CI sets
# ANPR_TEST_ES_REQUIRE=1 so a missing node fails the run instead.
test: dex
	$(GO) vet ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v -e '/internal/store/elastic$$' -e '/e2e$$')
	@mkdir -p .cache
	@$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v ./internal/store/elastic/ >.cache/es-test.log 2>&1; s=$$?; \
	  grep -E '^(SKIPPED|elasticsearch:|--- (FAIL|SKIP)|ok|FAIL|panic)' .cache/es-test.log; \
	  [ $$s -eq 0 ] || tail -50 .cache/es-test.log; exit $$s
	@$(MAKE) --no-print-directory e2e

# A development Elasticsearch node on 127.0.0.1:9200 (Ctrl-C stops it).
es-dev:
	@deploy/elasticsearch/fetch.sh >/dev/null
	@deploy/elasticsearch/start.sh

# Short coverage-guided fuzzing of every fuzz target (not part of `make test`: it is open-ended).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
		done; \
	done

# Benchmark at 10M reads (about 10 minutes on 2 cores); writes docs/benchmarks.md.
BENCH_READS ?= 10000000
# The Elasticsearch column loads fewer reads into a node the run starts: a shared 2-core machine
# bulk-loads a single node far slower than SQLite, and the run must finish in minutes.
BENCH_ES_READS ?= 200000
# 400 queries per search type keeps the convoy rows (a few hundred ms each at 10M reads) inside
# the half hour the whole run takes here; p99 is then the 4th-slowest of 400.
BENCH_QUERIES ?= 400
BENCH_AUDIT_EVENTS ?= 5000
# The soak: mixed load on the loaded store with memory sampled (RSS budget 512 MiB at the defaults).
BENCH_SOAK ?= 10m
bench: build
	$(BIN) bench --reads $(BENCH_READS) --queries $(BENCH_QUERIES) --audit-events $(BENCH_AUDIT_EVENTS) --es-reads $(BENCH_ES_READS) --soak $(BENCH_SOAK) --markdown docs/benchmarks.md --json docs/benchmarks.json

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin frontend/dist/app

# The web front end, built into frontend/dist/app and embedded in the binary by the next go build.
# npm ci only when package-lock.json is newer than the installed tree. `npm run build` also fails
# when frontend/src/api/schema.d.ts is stale against api/openapi.yaml (run `npm run gen` there).
.PHONY: frontend chromium e2e
frontend:
	@cd frontend && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build

# Debian's Chromium for the browser tests, installed only when missing (needs root for apt-get).
chromium:
	@[ -x /usr/bin/chromium ] || { apt-get update && apt-get install -y chromium; }

# Browser tests: the real binary (with the front end) on SQLite with demo data, the bundled Dex,
# and Playwright (playwright-core) driving /usr/bin/chromium headless. Screenshots: e2e/artifacts/.
e2e: frontend chromium dex
	@cd e2e && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; }
	ANPR_TEST_E2E_REQUIRE=1 $(GO) test -count=1 -v -timeout $(TEST_TIMEOUT) ./e2e/
