#!/usr/bin/env bash
# The import check's own test: on a copy of the sources, an edge outside the committed graph, an `@_exported`
# import, an import its target does not declare in Package.swift and a cycle in the graph must each make
# scripts/check-imports.sh fail, naming what is wrong; the copy as committed must pass.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fresh() {
  rm -rf "$work/tree"; mkdir -p "$work/tree/docs" "$work/tree/bench"
  cp -r "$here/Sources" "$work/tree/Sources"
  cp -r "$here/bench/engine" "$work/tree/bench/engine"
  mkdir -p "$work/tree/Tests"
  for t in "$here"/Tests/*/; do mkdir -p "$work/tree/Tests/$(basename "$t")"; cp "$t"*.swift "$work/tree/Tests/$(basename "$t")/" 2>/dev/null || true; done
  cp "$here/docs/module-graph.txt" "$work/tree/docs/"
  cp "$here/Package.swift" "$work/tree/"
}
expect_failure() {   # <what> <text the failure must name>
  if bash "$here/scripts/check-imports.sh" "$work/tree" 2> "$work/err"; then
    echo "test-check-imports: FAILED: $1 was not caught" >&2; exit 1
  fi
  grep -q -- "$2" "$work/err" || { echo "test-check-imports: FAILED: $1: the message does not name '$2':" >&2; cat "$work/err" >&2; exit 1; }
}

fresh
bash "$here/scripts/check-imports.sh" "$work/tree" 2>/dev/null || { echo "test-check-imports: FAILED: the committed tree does not pass" >&2; exit 1; }

fresh   # the engine reaching up into the jobs
sed -i '1i import CloakKit' "$work/tree/Sources/CloakTensor/Tensor.swift"
expect_failure "CloakTensor importing CloakKit" "CloakTensor imports CloakKit"

fresh   # the executable importing a lower module directly
sed -i '1i import CloakStore' "$work/tree/Sources/cloak/Cloak.swift"
expect_failure "cloak importing CloakStore" "cloak imports CloakStore"

fresh   # a re-export
sed -i 's/^import CloakTensor$/@_exported import CloakTensor/' "$work/tree/Sources/CloakNN/Layer.swift"
expect_failure "an @_exported import" "@_exported import CloakTensor"

fresh   # a test importing a module its target does not declare
sed -i '1i import CloakFace' "$work/tree/Tests/CloakStoreTests/RunRecordingTests.swift"
expect_failure "an undeclared test dependency" "imports CloakFace, which Package.swift does not list among CloakStoreTests"

fresh   # a cycle in the graph itself
sed -i 's/^CloakSupport: Crypto$/CloakSupport: Crypto, CloakKit/' "$work/tree/docs/module-graph.txt"
expect_failure "a cycle in the graph" "cycle"

echo "test-check-imports: ok (5 broken graphs caught)" >&2
