# Every command a user or CI runs. `make help` lists them.
#
#   make up STACK=isolated     deploy one option (works with no Pulumi Cloud account)
#   make test                  every test: the real Pulumi CLI against a stand-in AWS, a real RabbitMQ
#
STACK ?=
# The stacks are the stack files: one Pulumi.<option>.yaml per networking option.
STACKS := $(sort $(patsubst Pulumi.%.yaml,%,$(wildcard Pulumi.*.yaml)))
# Extra pulumi flags, e.g. ARGS="--yes" or ARGS="--target ..."
ARGS ?=
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: help up preview destroy rm env backend test engine-test bench integration build smoke redrive status plan docs diagrams lint

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "  %-12s %s\n", $$1, $$2 }'
	@echo "STACK is one of the stack files' options: $(STACKS)"

up: ## Deploy the option STACK (see the list below). The state backend is printed: .pulumi-backend, see make backend.
	@scripts/pulumi.sh up "$(STACK)" $(ARGS)

preview: ## Show what `make up` would change for STACK.
	@scripts/pulumi.sh preview "$(STACK)" $(ARGS)

destroy: ## Tear down STACK (waits out the ESM's network interfaces).
	@scripts/pulumi.sh destroy "$(STACK)" $(ARGS)

rm: ## After make destroy: remove STACK's record from the state backend (refused while it has resources; Pulumi.STACK.yaml stays).
	@scripts/pulumi.sh rm "$(STACK)" $(ARGS)

env: ## Print the exports that make the pulumi CLI use make up's backend, passphrase and CLI: eval "$(make -s env)".
	@scripts/pulumi.sh env

backend: ## Show the state backend, or choose it: BACKEND=local (.pulumi-state/, the default) or a URL (https://api.pulumi.com, s3://...).
	@scripts/pulumi.sh backend $(if $(BACKEND),"$(BACKEND)")

# The real-broker tests that skip (no RabbitMQ) append themselves to $(SKIP_LOG) (see
# internal/testsupport/brokertest); the test target ends by counting them, and exits as go test did.
SKIP_LOG := $(CURDIR)/.build/skipped-broker-tests

test: ## Run every test: the real Pulumi CLI on every stack (built into .build/ once), the data path on a local RabbitMQ.
	@cli_dir="$$(scripts/build-pulumi.sh)" && broker_env="$$(scripts/test-broker.sh)" && eval "$$broker_env" && \
		mkdir -p "$(dir $(SKIP_LOG))" && rm -f "$(SKIP_LOG)" && \
		{ PULUMI_CLI_DIR="$$cli_dir" ESM_TEST_SKIP_LOG="$(SKIP_LOG)" go test -count=1 -timeout 60m ./... && status=0 || status=$$?; } && \
		if [ -s "$(SKIP_LOG)" ]; then \
			echo && sort -u "$(SKIP_LOG)" | cut -d' ' -f1 | uniq -c | awk '{ printf "!!!!! %5d skipped in %s\n", $$1, $$2 }' && \
			printf '!!!!! %d REAL-BROKER TESTS WERE SKIPPED: no local RabbitMQ (apt-get install rabbitmq-server openssl); the list: %s\n' \
				"$$(sort -u "$(SKIP_LOG)" | wc -l)" "$(SKIP_LOG)"; \
		fi; exit "$$status"

engine-test: ## The real-engine suite alone, step by step: the real Pulumi CLI deploys, changes and destroys every stack.
	@cli_dir="$$(scripts/build-pulumi.sh)" && PULUMI_CLI_DIR="$$cli_dir" go test -count=1 -timeout 60m -v -run TestRealEngine ./enginetest/

bench: ## Measure the listener as users pay for it: the bootstrap through a loopback Runtime API against the floor and Node.js, cold start, size; then in process and the candidate libraries.
	@mkdir -p .build && out=.build/bench.txt && : > "$$out" && \
		go test -count=1 -run '^TestArchiveSize$$' -v ./listener/ | grep -E 'arm64 bootstrap|^(ok|FAIL)' | tee -a "$$out" && \
		go test -run '^$$' -bench 'EndToEnd|ColdStart|NodeListener' -count 5 ./listener/ | tee -a "$$out" && \
		go test -run '^$$' -bench . -count 5 ./listener/handler/... | tee -a "$$out" && \
		(cd bench/candidates && go test -run '^$$' -bench . -count 3 .) | tee -a "$$out" && \
		go run ./bench/summary < "$$out"

# Each option is a paid broker (and NAT gateways or endpoints) for about an hour: running them
# all takes ALL=1, said on purpose. The state goes to make up's backend (scripts/pulumi.sh env).
integration: ## In a real AWS account (costs money): deploy, check and destroy STACK; every option needs ALL=1.
	$(if $(STACK),$(if $(filter $(STACK),$(STACKS)),,$(error make integration: no stack "$(STACK)"; STACK is one of: $(STACKS))),$(if $(filter 1,$(ALL)),,$(error make integration needs STACK=<option> (one of: $(STACKS)), or ALL=1 to deploy every option at once: each is a paid broker for about an hour)))
	@env_lines="$$(scripts/pulumi.sh env)" && eval "$$env_lines" && \
		ESM_IT_OPTIONS="$(if $(STACK),$(STACK),all)" go test -tags integration -timeout 4h -count=1 -v -run 'TestOptions' ./integration/

smoke: ## After make up: publish messages through the provisioner, wait for the listener to log them, PASS/FAIL.
	@scripts/pulumi.sh smoke "$(STACK)" $(ARGS)

redrive: ## Move STACK's dead letters back to its queue through the provisioner (ARGS="--dry-run", "--max N", "--direct").
	@scripts/pulumi.sh redrive "$(STACK)" $(ARGS)

status: ## STACK on one screen: the mapping's state and its fix, the queue's figures, alarms firing, the listener's errors (ARGS="--json").
	@scripts/pulumi.sh status "$(STACK)" $(ARGS)

build: ## Build the Lambda binaries and archives into .build/ exactly as the program deploys them.
	@go run ./cmd/buildlambdas

plan: ## Show offline what STACK builds and how the ESM reaches AWS (no AWS account, no Pulumi CLI).
	@go run ./cmd/plan --stack "$(STACK)"

docs: ## Regenerate the generated blocks: README.md's configuration table, docs/options.md's diagrams, docs/architecture.md's rooms, docs/operations.md's mapping states.
	@go run ./cmd/plan --write-docs .

diagrams: docs ## The old name of make docs.

lint: ## golangci-lint and actionlint at their pinned versions (installed into .build/bin).
	@scripts/lint.sh
