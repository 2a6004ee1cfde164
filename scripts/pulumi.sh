#!/usr/bin/env bash
# Runs `pulumi up|preview|destroy` for one stack of this project, or a command that reads its
# outputs (smoke, redrive). Used by `make up/preview/destroy/smoke/redrive`.
#
# With no Pulumi backend logged in (no `pulumi login`, no PULUMI_BACKEND_URL), the state goes to a
# local file backend in .pulumi-state/ and secrets are encrypted with a passphrase generated once
# into .pulumi-passphrase (both git-ignored; keep them: they are the only record of what was
# deployed). A newcomer needs no Pulumi Cloud account.
set -euo pipefail

usage() {
  echo "usage: scripts/pulumi.sh up|preview|destroy|smoke|redrive <stack> [flags...]" >&2
  echo "stacks: $(stacks)" >&2
  exit 2
}
stacks() {
  local f names=()
  for f in "$root"/Pulumi.*.yaml; do
    f="${f##*/Pulumi.}"
    names+=("${f%.yaml}")
  done
  echo "${names[*]}"
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 2 ] || usage
command="$1" stack="$2"
shift 2
case "$command" in up|preview|destroy|smoke|redrive) ;; *) usage ;; esac
if [ -z "$stack" ] || [ ! -f "$root/Pulumi.$stack.yaml" ]; then
  echo "error: no stack \"$stack\": set STACK to one of: $(stacks)" >&2
  exit 2
fi
# The CLI scripts/build-pulumi.sh builds (make test builds it too) is the one this project is
# tested with: used first, when it is there, with its language host beside it.
pinned="$root/.build/pulumi/bin"
if [ -x "$pinned/pulumi" ]; then
  export PATH="$pinned:$PATH"
  echo "Using the pinned Pulumi CLI in .build/pulumi/bin." >&2
fi
for tool in pulumi go; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool is not on PATH. See README.md, Prerequisites (scripts/build-pulumi.sh builds the pinned Pulumi CLI, which this script then uses)." >&2
    exit 127
  fi
done

# Resource hooks wait out Lambda's network interfaces; only from v3.238.0 does a failed hook
# stop a deployment instead of being a warning (pulumi/pulumi#22935).
readonly min_pulumi=3.238.0
found="$(pulumi version 2>/dev/null || true)"
found="${found#v}"
if [ -z "$found" ] || [ "$(printf '%s\n%s\n' "$min_pulumi" "$found" | sort -V | head -n1)" != "$min_pulumi" ]; then
  echo "error: this project needs the Pulumi CLI $min_pulumi or later, found ${found:-none}: its deletion hooks must stop a" >&2
  echo "deployment when Lambda's network interfaces outlive the wait, which older CLIs only warn about (pulumi/pulumi#22935)." >&2
  echo "Upgrade the CLI (https://www.pulumi.com/docs/install/), or build the pinned one: scripts/build-pulumi.sh" >&2
  exit 1
fi

cd "$root"
create_flags=()
if [ -z "${PULUMI_BACKEND_URL:-}" ] && ! pulumi whoami >/dev/null 2>&1; then
  export PULUMI_BACKEND_URL="file://$root/.pulumi-state"
  mkdir -p .pulumi-state
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    if [ ! -s .pulumi-passphrase ]; then
      (umask 077 && head -c 32 /dev/urandom | base64 > .pulumi-passphrase)
      echo "Generated .pulumi-passphrase: it encrypts this stack's secrets; keep it with .pulumi-state/." >&2
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$root/.pulumi-passphrase"
  fi
  create_flags=(--secrets-provider passphrase)
  echo "No Pulumi backend logged in: using the local state in .pulumi-state/." >&2
fi

pulumi stack select --create "${create_flags[@]}" "$stack" >/dev/null
case "$command" in
  up) exec pulumi up --stack "$stack" "$@" ;;
  preview) exec pulumi preview --diff --stack "$stack" "$@" ;;
  # The ESM's after-delete hook waits out its network interfaces; the engine runs hooks on
  # destroy only with --run-program. The program then runs whole, and RABBITMQ_ESM_TEARDOWN
  # turns its deploy-only checks (infra/teardown.go) into warnings: an account changed since the
  # deploy must not keep the stack from being destroyed.
  destroy) RABBITMQ_ESM_TEARDOWN=1 exec pulumi destroy --run-program --stack "$stack" "$@" ;;
  # The smoke test and the redrive read the stack's outputs through the same backend.
  smoke) exec go run ./cmd/smoke --stack "$stack" "$@" ;;
  redrive) exec go run ./cmd/redrive --stack "$stack" "$@" ;;
esac
