#!/usr/bin/env bash
# Checks every `import` line of Cloak's own modules against the committed module graph (docs/module-graph.txt):
# an edge the graph does not list, an `@_exported import`, or a cycle in the graph fails, naming the file and line.
#
#   bash scripts/check-imports.sh [root]     # root: the package folder (default: this script's parent)
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
python3 - "$root" <<'PY'
import os, re, sys
root = sys.argv[1]
system = {"Foundation", "FoundationEssentials", "FoundationXML", "Glibc", "Darwin", "Dispatch", "Synchronization",
          "XCTest", "Testing", "os"}
graph = {}
for raw in open(os.path.join(root, "docs/module-graph.txt")):
    line = raw.split("#", 1)[0].strip()
    if not line:
        continue
    module, _, allowed = line.partition(":")
    graph[module.strip()] = {a.strip() for a in allowed.split(",") if a.strip()}

# Source folders: Sources/<Module>/ and the benchmark executables named in the graph.
folders = {name: os.path.join(root, "Sources", name) for name in os.listdir(os.path.join(root, "Sources"))}
folders["cloak-bench-engine"] = os.path.join(root, "bench/engine")
problems = []
for module, folder in sorted(folders.items()):
    swift = [os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs if f.endswith(".swift")]
    if swift and module not in graph:
        problems.append(f"{folder}: module {module} is not in docs/module-graph.txt")
        continue
    for path in sorted(swift):
        for number, text in enumerate(open(path, encoding="utf-8"), 1):
            m = re.match(r"\s*(@_exported\s+|@testable\s+|@preconcurrency\s+)?import\s+(?:(?:struct|class|enum|func|protocol|typealias|var|let)\s+)?([A-Za-z_][A-Za-z0-9_]*)", text)
            if not m:
                continue
            attribute, imported = (m.group(1) or "").strip(), m.group(2)
            where = f"{os.path.relpath(path, root)}:{number}"
            if attribute == "@_exported":
                problems.append(f"{where}: `@_exported import {imported}`: re-exports are not allowed; import what you use")
            if imported not in system and imported != module and imported not in graph[module]:
                problems.append(f"{where}: {module} imports {imported}, an edge docs/module-graph.txt does not allow")

# The graph itself must be acyclic (among Cloak's modules).
state = {}
def visit(node, path):
    if state.get(node) == 1:
        problems.append("docs/module-graph.txt: cycle " + " -> ".join(path + [node]))
        return
    if state.get(node) == 2:
        return
    state[node] = 1
    for nxt in sorted(graph.get(node, ())):
        if nxt in graph:
            visit(nxt, path + [node])
    state[node] = 2
for node in sorted(graph):
    visit(node, [])

if problems:
    print("check-imports: the module graph is broken:", file=sys.stderr)
    for p in problems:
        print("  " + p, file=sys.stderr)
    sys.exit(1)
print(f"check-imports: ok ({sum(len(v) for v in graph.values())} edges, {len(graph)} modules)", file=sys.stderr)
PY
