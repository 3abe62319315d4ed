# The two commands a newcomer needs:
#   make run    installs what is missing and runs catroom
#   make test   installs what is missing and runs the whole test suite
#   make fuzz   runs every libFuzzer target for FUZZ_SECONDS (60) each; not part of make test

SWIFT ?= swift
SETUP_STAMP := .build/.setup-done

.PHONY: setup run test bench fuzz clean

$(SETUP_STAMP): scripts/setup.sh Tests/requirements.txt
	./scripts/setup.sh
	@mkdir -p .build && touch $@

setup: $(SETUP_STAMP)

run: setup
	$(SWIFT) build -c release --product catroom
	.build/release/catroom serve

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest
	CATROOM_BIN=$(CURDIR)/.build/debug/catroom .venv/bin/python -m pytest -q Tests/python

bench: setup
	$(SWIFT) build -c release --product catroom
	.build/release/catroom bench crypto
	.build/release/catroom bench parser

# docs/security-testing.md; `make fuzz FUZZ_SECONDS=3600` is a long campaign.
FUZZ_SECONDS ?= 60
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz.sh

clean:
	rm -rf .build .venv
