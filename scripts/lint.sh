#!/usr/bin/env bash
# The project's quality gates: golangci-lint (configuration in .golangci.yml) over the Go code,
# and actionlint over the GitHub workflows. Arguments are package patterns (default ./...).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-tools.sh
echo "golangci-lint $(.build/bin/golangci-lint version --short 2>/dev/null || true)"
.build/bin/golangci-lint run "${@:-./...}"
echo "actionlint"
.build/bin/actionlint -no-color .github/workflows/*.yml
echo "lint: no findings"
