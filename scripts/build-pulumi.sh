#!/usr/bin/env bash
# Builds the real Pulumi CLI and its Go language host from the Go module proxy into
# .build/pulumi/bin, pinned, and reuses them when present. Prints that directory.
#
# Why a wrapper module: `go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@...` is refused
# because pkg's go.mod has a replace directive; a module that repeats it builds the CLI.
# pulumi-language-go v3.21.0 is the newest the proxy installs; it runs this program's SDK
# (v3.263.0) under CLI v3.274.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly PULUMI_VERSION=v3.274.1
readonly LANGUAGE_GO_VERSION=v3.21.0
readonly CLIPBOARD_REPLACE='github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e'

bin="$PWD/.build/pulumi/bin"
stamp="$bin/.versions"
want="pulumi=$PULUMI_VERSION language-go=$LANGUAGE_GO_VERSION"

if [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-go" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "building the Pulumi CLI $PULUMI_VERSION (about 10 minutes cold on 2 cores)" >&2
(
  cd "$work"
  go mod init pulumi-cli-build >/dev/null 2>&1
  go mod edit -replace "$CLIPBOARD_REPLACE"
  go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" >&2
  go build -trimpath -o "$bin/pulumi" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
)

echo "building pulumi-language-go $LANGUAGE_GO_VERSION" >&2
GOBIN="$bin" go install -trimpath -ldflags "-s -w" \
  "github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go@$LANGUAGE_GO_VERSION"

echo "$want" >"$stamp"
echo "$bin"
