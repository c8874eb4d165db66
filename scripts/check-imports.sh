#!/usr/bin/env bash
# Checks every `import` line of Cloak's own modules against the committed module graph (docs/module-graph.txt), and
# every import of a target (tests included) against its dependencies in Package.swift: an edge the graph does not
# list, an `@_exported import`, an undeclared dependency, or a cycle in the graph fails, naming the file and line.
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

# Every import must also be a declared dependency of its target in Package.swift (SwiftPM may find an undeclared
# module built for another target on one machine and not on a clean one).
package = open(os.path.join(root, "Package.swift"), encoding="utf-8").read()
products = {"GRDB.swift": "GRDB", "swift-crypto": "Crypto", "swift-argument-parser": "ArgumentParser"}
declared_targets = re.finditer(r'\.(?:target|executableTarget|testTarget)\(name: "([\w-]+)", dependencies: \[([^\]]*)\]'
                               r'(?:,\s*path: "([^"]+)")?', package, flags=re.S)
for m in declared_targets:
    name, listed, path = m.group(1), m.group(2), m.group(3)
    deps = set(re.findall(r'"([\w-]+)"', listed)) | {v for k, v in products.items() if k in listed}
    folder = os.path.join(root, path) if path else os.path.join(root, "Tests" if name.endswith("Tests") else "Sources", name)
    for d, _, fs in os.walk(folder):
        for f in fs:
            if not f.endswith(".swift"):
                continue
            for number, text in enumerate(open(os.path.join(d, f), encoding="utf-8"), 1):
                im = re.match(r"(?:@testable\s+)?import\s+([A-Za-z_]\w*)", text)
                if im and im.group(1) not in system | deps | {name}:
                    problems.append(f"{os.path.relpath(os.path.join(d, f), root)}:{number}: imports {im.group(1)}, "
                                    f"which Package.swift does not list among {name}'s dependencies")

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
