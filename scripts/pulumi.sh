#!/usr/bin/env bash
# Runs `pulumi up|preview|destroy|stack rm` for one stack of this project, or a command that reads
# its outputs (smoke, redrive, status). Used by `make up/preview/destroy/rm/smoke/redrive/status/env/backend`.
#
# The state backend is chosen once, in the git-ignored file .pulumi-backend: "local" (the
# default, written on the first run: a file backend in .pulumi-state/, its secrets encrypted with
# a passphrase generated once into .pulumi-passphrase, so a newcomer needs no Pulumi Cloud
# account) or a backend URL. PULUMI_BACKEND_URL in the environment overrides the file. `pulumi
# login` never moves it. Every run prints the backend and where the choice came from, and a stack
# found on another backend (the local one, or the one `pulumi login` chose) but not on the chosen
# one is refused before anything changes. `env` prints the variables that make the pulumi CLI,
# run directly, use the same backend, passphrase and CLI.
set -euo pipefail

usage() {
  cat >&2 <<EOF
usage: scripts/pulumi.sh up|preview|destroy|rm|smoke|redrive|status <stack> [flags...]
       scripts/pulumi.sh env                  print the exports that make the pulumi CLI use this backend:
                                              eval "\$(scripts/pulumi.sh env)"
       scripts/pulumi.sh backend [local|URL]  show, or choose, the state backend (.pulumi-backend)
stacks: $(stacks)
EOF
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
[ $# -ge 1 ] || usage
command="$1"
shift
stack=""
case "$command" in
  up|preview|destroy|rm|smoke|redrive|status)
    [ $# -ge 1 ] || usage
    stack="$1"
    shift
    if [ -z "$stack" ] || [ ! -f "$root/Pulumi.$stack.yaml" ]; then
      echo "error: no stack \"$stack\": set STACK to one of: $(stacks)" >&2
      exit 2
    fi
    ;;
  env) [ $# -eq 0 ] || usage ;;
  backend) [ $# -le 1 ] || usage ;;
  *) usage ;;
esac

# The CLI scripts/build-pulumi.sh builds (make test builds it too) is the one this project is
# tested with: used first, when it is there, with its language host beside it.
pinned="$root/.build/pulumi/bin"
if [ -n "$stack" ]; then
  if [ -x "$pinned/pulumi" ]; then
    export PATH="$pinned:$PATH"
    echo "Using the pinned Pulumi CLI in .build/pulumi/bin." >&2
  fi
  for tool in pulumi go; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "error: $tool is not on PATH. See docs/operations.md, Prerequisites (scripts/build-pulumi.sh builds the pinned Pulumi CLI, which this script then uses)." >&2
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
fi

cd "$root"
readonly choice_file=.pulumi-backend
readonly local_url="file://$root/.pulumi-state"

# backend_url turns a choice ("local" or a URL) into a backend URL, or fails.
backend_url() {
  case "$1" in
    local) echo "$local_url" ;;
    https://*|http://*|file://*|s3://*|azblob://*|gs://*|postgres://*) echo "${1%/}" ;;
    *) return 1 ;;
  esac
}
write_choice() {
  cat > "$choice_file" <<EOF
# The Pulumi state backend of make up/preview/destroy/rm/smoke/redrive/status (scripts/pulumi.sh).
# "local": the file backend in .pulumi-state/, secrets under .pulumi-passphrase; or a backend URL
# (https://api.pulumi.com, s3://bucket, file:///path). Change it with: make backend BACKEND=...
$1
EOF
}
read_choice() { grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$choice_file" | head -n1 | tr -d '[:space:]'; }

if [ "$command" = backend ] && [ $# -eq 1 ]; then
  if ! backend_url "$1" >/dev/null; then
    echo "error: BACKEND=\"$1\" is not a backend: give local (the file backend in .pulumi-state/) or a URL such as https://api.pulumi.com, s3://bucket or file:///path" >&2
    exit 2
  fi
  write_choice "$1"
  echo "Chose the state backend $(backend_url "$1") in $choice_file. Stacks stay where they are: a stack on the previous backend is refused, not moved, until you switch back." >&2
fi

# The chosen backend and where the choice comes from.
if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
  backend="${PULUMI_BACKEND_URL%/}"
  from="PULUMI_BACKEND_URL in the environment"
  if [ -f "$choice_file" ]; then
    from="$from, which overrides $choice_file's $(read_choice)"
  fi
else
  from="$choice_file"
  if [ ! -f "$choice_file" ]; then
    write_choice local
    from="$choice_file, just written with the default; change it with make backend BACKEND=<URL>"
  fi
  choice="$(read_choice)"
  if ! backend="$(backend_url "$choice")"; then
    echo "error: $choice_file says \"$choice\", which is not a backend: write local or a backend URL (make backend BACKEND=local)" >&2
    exit 2
  fi
fi
export PULUMI_BACKEND_URL="$backend"
echo "State backend: $backend (from $from)" >&2

create_flags=()
if [ "$backend" = "$local_url" ]; then
  mkdir -p .pulumi-state
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    if [ ! -s .pulumi-passphrase ]; then
      (umask 077 && head -c 32 /dev/urandom | base64 > .pulumi-passphrase)
      echo "Generated .pulumi-passphrase: it encrypts this stack's secrets; keep it with .pulumi-state/." >&2
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$root/.pulumi-passphrase"
  fi
  create_flags=(--secrets-provider passphrase)
fi

case "$command" in
  backend) exit 0 ;;
  env)
    quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
    echo "export PULUMI_BACKEND_URL=$(quote "$PULUMI_BACKEND_URL")"
    if [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
      echo "export PULUMI_CONFIG_PASSPHRASE_FILE=$(quote "$PULUMI_CONFIG_PASSPHRASE_FILE")"
    fi
    if [ -x "$pinned/pulumi" ]; then
      # shellcheck disable=SC2016 # $PATH is for the shell that evaluates this line
      echo "export PATH=$(quote "$pinned")"':"$PATH"'
    fi
    exit 0
    ;;
esac

# has_stack URL: 0 when the backend at URL lists the stack, 1 when it does not, 2 when it cannot
# be asked (not logged in, unreachable).
has_stack() {
  local list pattern
  list="$(PULUMI_BACKEND_URL="$1" pulumi stack ls --json --non-interactive </dev/null 2>/dev/null)" || return 2
  # A self-managed backend lists "nat"; Pulumi Cloud may list "org/nat" or "org/project/nat".
  pattern="\"name\": *\"([^\"]*/)?${stack//./\\.}\""
  if grep -Eq "$pattern" <<<"$list"; then return 0; fi
  return 1
}

# Before anything changes: a stack that is not on the chosen backend but is on another one means
# the backend moved (a login, an exported variable, a new checkout), not that the stack is new.
status=0
has_stack "$backend" || status=$?
if [ "$status" -eq 1 ]; then
  others=()
  if [ "$backend" != "$local_url" ] && [ -d .pulumi-state ]; then
    others+=("$local_url")
  fi
  login="$(env -u PULUMI_BACKEND_URL pulumi whoami --json --non-interactive </dev/null 2>/dev/null |
    sed -n 's/^ *"url": *"\([^"]*\)".*/\1/p' || true)"
  login="${login%/}"
  if [ -n "$login" ] && [ "$login" != "$backend" ] && [ "$login" != "$local_url" ]; then
    others+=("$login")
  fi
  for other in "${others[@]}"; do
    if has_stack "$other"; then
      label="the one pulumi login chose"
      choice="$other"
      if [ "$other" = "$local_url" ]; then
        label="the local file backend in .pulumi-state/"
        choice=local
      fi
      {
        echo "error: stack \"$stack\" is not on the chosen state backend $backend (from $from),"
        echo "but it is on $other ($label). Nothing was changed."
        echo "To work on that stack, choose its backend:  make backend BACKEND=$choice"
        echo "(or for one run: PULUMI_BACKEND_URL=$other make $command STACK=$stack)."
        echo "To start a separate \"$stack\" stack on $backend instead, remove the other one first (make rm on that backend)."
      } >&2
      exit 1
    fi
  done
fi

case "$command" in
  up|preview) pulumi stack select --create "${create_flags[@]}" "$stack" >/dev/null ;;
  *)
    if [ "$status" -eq 1 ]; then
      hint="if it lives on another backend, choose that one with make backend BACKEND=<URL>"
      case "$command" in smoke|redrive|status) hint="deploy it with make up STACK=$stack, or, $hint" ;; esac
      echo "error: there is no stack \"$stack\" on $backend: nothing to $command ($hint)." >&2
      exit 1
    fi
    pulumi stack select "$stack" >/dev/null
    ;;
esac
case "$command" in
  up) exec pulumi up --stack "$stack" "$@" ;;
  preview) exec pulumi preview --diff --stack "$stack" "$@" ;;
  # The ESM's after-delete hook waits out its network interfaces; the engine runs hooks on
  # destroy only with --run-program. The program then runs whole, and RABBITMQ_ESM_TEARDOWN
  # turns its deploy-only checks (infra/teardown.go) into warnings: an account changed since the
  # deploy must not keep the stack from being destroyed.
  destroy) RABBITMQ_ESM_TEARDOWN=1 exec pulumi destroy --run-program --stack "$stack" "$@" ;;
  # pulumi stack rm deletes Pulumi.<stack>.yaml unless told not to: here that is a shipped file.
  rm)
    if ! out="$(pulumi stack rm --yes --preserve-config --stack "$stack" "$@" 2>&1)"; then
      printf '%s\n' "$out" >&2
      if [[ $out == *"still has resources"* ]]; then
        {
          echo
          echo "make rm refused: stack \"$stack\" on $backend still has resources in AWS, which go on billing."
          echo "Tear them down first with: make destroy STACK=$stack   (it waits out the ESM's network interfaces),"
          echo "then run make rm STACK=$stack again. Not pulumi stack rm --force: it forgets the resources and leaves them in AWS."
        } >&2
      fi
      exit 1
    fi
    printf '%s\n' "$out"
    echo "Removed stack \"$stack\" from $backend; Pulumi.$stack.yaml stays." >&2
    ;;
  # The smoke test, the redrive and the status read the stack's outputs through the same backend.
  smoke) exec go run ./cmd/smoke --stack "$stack" "$@" ;;
  redrive) exec go run ./cmd/redrive --stack "$stack" "$@" ;;
  # Built, not go run: go run turns every failing exit into 1, and status's 1 and 2 differ.
  status)
    mkdir -p .build/bin
    go build -o .build/bin/status ./cmd/status
    exec .build/bin/status --stack "$stack" "$@"
    ;;
esac
