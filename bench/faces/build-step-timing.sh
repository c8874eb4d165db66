#!/usr/bin/env bash
# Compiles bench/faces/StepTiming.swift into .build/release/cloak-face-step against the objects that
# `swift build -c release -Xswiftc -enable-testing [...] --product cloak` left in .build/release (so the timed code is
# exactly the cloak binary's), without a SwiftPM target (Package.swift stays as it is). `@testable import` needs the
# -enable-testing build. Exits non-zero, with the compiler's message, when the objects are missing or do not link.
set -euo pipefail
cd "$(dirname "$0")/../.."
R=.build/release
CPU_FLAGS=()
grep -m1 -qw avx512f /proc/cpuinfo 2>/dev/null && CPU_FLAGS=(-target-cpu znver4)
objs=()
for t in CloakFace CloakImage CloakNN CloakTensor CJPEGShim Crypto CCryptoBoringSSL CCryptoBoringSSLShims CryptoBoringWrapper; do
  [[ -d $R/$t.build ]] || continue
  while IFS= read -r -d '' o; do objs+=("$o"); done < <(find "$R/$t.build" -name '*.o' -print0)
done
maps=()
for m in Sources/CDNNL Sources/CPNG Sources/CJPEG Sources/CZlib $R/CJPEGShim.build; do
  maps+=(-Xcc "-fmodule-map-file=$m/module.modulemap")
done
${SWIFTC:-swiftc} -O "${CPU_FLAGS[@]}" -I $R/Modules "${maps[@]}" bench/faces/StepTiming.swift "${objs[@]}" \
  -ldnnl -lpng16 -ljpeg -lz -lstdc++ -o $R/cloak-face-step
