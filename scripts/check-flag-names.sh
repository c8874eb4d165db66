#!/usr/bin/env bash
# Flag names live in the command line only: below Sources/cloak/, messages name a setting by its property name in
# backticks (`maxRounds`), which the executable shows as its flag. Fails on a string literal spelling a flag
# (`--name`) in any other module's code. Reports (files named *Report*.swift) and the demo (Demo.swift) are
# exempt: they print the `cloak` command lines a reader can run.
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
found=$(cd "$root" && grep -rnE '"[^"]*--[a-z][a-z-]*' Sources --include='*.swift' \
  | grep -v '^Sources/cloak/' | grep -vE '^[^:]+Report[^/]*\.swift:|^[^:]*/Demo\.swift:' \
  | grep -vE '^[^:]+:[0-9]+:\s*///?' || true)
if [[ -n $found ]]; then
  echo "check-flag-names: flag spellings outside the command line (name the setting in backticks instead):" >&2
  echo "$found" | sed 's/^/  /' >&2
  exit 1
fi
echo "check-flag-names: ok" >&2
