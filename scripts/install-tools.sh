#!/usr/bin/env bash
# Installs the pinned linters into .build/bin (git-ignored), from the Go module proxy, built with
# this machine's Go so that golangci-lint understands the Go version go.mod names. A tool that is
# already there at the pinned version is kept.
set -euo pipefail

GOLANGCI_LINT_VERSION=v2.15.0
ACTIONLINT_VERSION=v1.7.12

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.build/bin"
mkdir -p "$bin"

install() { # name module version version-probe
  local name="$1" module="$2" version="$3"
  if [ -x "$bin/$name" ] && "$bin/$name" --version 2>/dev/null | grep -q "${version#v}"; then
    return
  fi
  echo "installing $name $version" >&2
  GOBIN="$bin" go install "$module@$version"
}

install golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
