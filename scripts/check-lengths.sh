#!/usr/bin/env bash
# Short files and functions: no Swift file under Sources/ over 300 lines, no function (or initialiser, or closure-free
# body of a computed property) over 60 lines, unless its doc comment says why with a line starting
# "/// Why it is long:". Prints each offender with its length.
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
python3 - "$root" <<'PY'
import os, re, sys
root = sys.argv[1]
MAX_FILE, MAX_FUNC = 300, 60
problems = []
decl = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|open|static|class|final|override|mutating|nonisolated|convenience|required|@inline\(__always\))\s+)*(?:func\s+\w+|init[?!]?)\s*[<(]")
def justified(lines, index):
    j = index - 1
    while j >= 0 and (lines[j].strip().startswith("///") or lines[j].strip().startswith("@")):
        if lines[j].strip().startswith("/// Why it is long:"):
            return True
        j -= 1
    return False
for folder, _, files in os.walk(os.path.join(root, "Sources")):
    for name in sorted(files):
        if not name.endswith(".swift"):
            continue
        path = os.path.join(folder, name)
        rel = os.path.relpath(path, root)
        lines = open(path, encoding="utf-8").read().split("\n")
        if lines and lines[-1] == "":
            lines = lines[:-1]
        if len(lines) > MAX_FILE and not any(l.startswith("/// Why it is long:") or l.startswith("// Why it is long:") for l in lines[:40]):
            problems.append(f"{rel}: {len(lines)} lines (at most {MAX_FILE})")
        for i, line in enumerate(lines):
            if not decl.match(line):
                continue
            # find the body's opening brace, then its match (strings and comments are rare enough to ignore braces in)
            depth, start, end = 0, None, None
            for k in range(i, len(lines)):
                text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', lines[k].split("//")[0])
                for ch in text:
                    if ch == "{":
                        depth += 1
                        if start is None:
                            start = k
                    elif ch == "}":
                        depth -= 1
                        if start is not None and depth == 0:
                            end = k
                            break
                if end is not None or (start is None and k > i + 10):
                    break
            if start is None or end is None:
                continue
            length = end - i + 1
            if length > MAX_FUNC and not justified(lines, i):
                problems.append(f"{rel}:{i + 1}: {line.strip()[:70]} is {length} lines (at most {MAX_FUNC})")
if problems:
    print("check-lengths: too long:", file=sys.stderr)
    for p in problems:
        print("  " + p, file=sys.stderr)
    sys.exit(1)
print("check-lengths: ok", file=sys.stderr)
PY
