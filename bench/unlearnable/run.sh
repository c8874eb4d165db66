#!/usr/bin/env bash
# make bench-unlearnable: error-minimising (unlearnable) noise on Fashion-MNIST, Cloak versus a PyTorch
# implementation of the same algorithm (bench/unlearnable/em_pytorch.py, Debian python3-torch, 2 threads),
# same data, same hyper-parameters, same seed, same stop rule; then both noises checked by the same verifier.
#
#   1. class-wise noise for the full 60k train set (generated on a seeded 20% subset, 1 PGD step, stop error 0.01)
#   2. sample-wise noise for the first 1,000 images of each class (10k; 20 PGD steps, stop error 0.01), slow
#
# Each: generation with both implementations one after the other (never at the same time), wall time and the
# implementations' own generation time, an output check (every PNG within eps levels of its input, noise.npy
# shape, class-constant or per-sample noise), `cloak verify` of both outputs (SmallCNN, 10 epochs, countermeasures
# none, jpeg10, augment, against the clean data), and a Markdown table (also in <out>/<mode>/results.md).
#
# Environment:
#   BENCH_OUT=bench/unlearnable/out   where everything goes (git-ignored)
#   BENCH_MODES="class sample"        which modes to run; BENCH_SAMPLE=0 is a shortcut for "class"
#   BENCH_IMPLS="cloak pytorch"       which implementations to run (a missing one shows as n/a)
#   BENCH_VERIFY=1                    0: skip `cloak verify`
#   BENCH_SEED=0  BENCH_EPOCHS=10  BENCH_COUNTERMEASURES=none,jpeg10,augment
#   BENCH_MAX_ROUNDS_CLASS=100  BENCH_MAX_ROUNDS_SAMPLE=60
#   BENCH_FRESH=1                     0: keep finished outputs of an earlier run and only summarise/verify them
#   BENCH_BUILD=1                     0: do not build; use CLOAK_BIN (default .build/release/cloak)
#   BENCH_SMOKE_LIMIT=N               smoke test of this script: first N images per class in both modes
#   BENCH_DATA=Datasets/fashion-mnist where the Fashion-MNIST ImageFolder tree is (or goes)
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=${BENCH_OUT:-bench/unlearnable/out}
MODES=${BENCH_MODES:-class sample}
[[ ${BENCH_SAMPLE:-1} == 0 ]] && MODES=class
IMPLS=${BENCH_IMPLS:-cloak pytorch}
VERIFY=${BENCH_VERIFY:-1}
SEED=${BENCH_SEED:-0}
EPOCHS=${BENCH_EPOCHS:-10}
COUNTERMEASURES=${BENCH_COUNTERMEASURES:-none,jpeg10,augment}
FRESH=${BENCH_FRESH:-1}
PY=/usr/bin/python3
HERE=bench/unlearnable
DATA=${BENCH_DATA:-Datasets/fashion-mnist}   # imported there when missing
STORE=$OUT/store.sqlite          # the benchmark's runs stay out of the project's Store/cloak.sqlite

export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

say() { printf '\n== %s\n' "$*" >&2; }

# --- PyTorch baseline: Debian's Python with python3-torch and python3-pil (not pyenv's python3) -----------------
if ! { [[ -x $PY ]] && $PY -c "import torch, PIL" 2>/dev/null; }; then
  say "installing python3-torch and python3-pil (the PyTorch baseline)"
  SUDO=; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch python3-pil >/dev/null
fi

# --- Cloak, built as the Makefile builds it -------------------------------------------------------------------
CLOAK=${CLOAK_BIN:-.build/release/cloak}
if [[ ${BENCH_BUILD:-1} == 1 ]]; then
  CPU_FLAGS=()
  grep -m1 -qw avx512f /proc/cpuinfo 2>/dev/null && CPU_FLAGS=(-Xswiftc -target-cpu -Xswiftc znver4)
  say "building Cloak (release)"
  swift build -c release -Xswiftc -enable-testing "${CPU_FLAGS[@]}" --product cloak
fi
if [[ " $IMPLS " == *" cloak "* ]] && ! $CLOAK unlearnable --help >/dev/null 2>&1; then
  echo "bench-unlearnable: this build of cloak has no 'unlearnable' command; running the PyTorch side only" >&2
  IMPLS=${IMPLS//cloak/}
fi
HAVE_VERIFY=1
$CLOAK verify --help >/dev/null 2>&1 || { HAVE_VERIFY=0; echo "bench-unlearnable: no 'cloak verify' in this build; skipping verification" >&2; }

say "importing Fashion-MNIST (a no-op when present)"
$CLOAK datasets import fashion-mnist --out "$DATA" --quiet
mkdir -p "$OUT"

# run_mode <mode>: generation with each implementation, checks, verification, table.
run_mode() {
  local mode=$1 dir=$OUT/$1 pgd limit=() vlimit=() maxr
  if [[ $mode == class ]]; then
    pgd=1; maxr=${BENCH_MAX_ROUNDS_CLASS:-100}
    local sub=(--subset 0.2)
    if [[ -n ${BENCH_SMOKE_LIMIT:-} ]]; then limit=(--limit-per-class "$BENCH_SMOKE_LIMIT"); vlimit=("${limit[@]}"); fi
  else
    pgd=20; maxr=${BENCH_MAX_ROUNDS_SAMPLE:-60}
    limit=(--limit-per-class "${BENCH_SMOKE_LIMIT:-1000}"); vlimit=("${limit[@]}")
    local sub=()
  fi
  # The same hyper-parameters for both (the reference's defaults, spelled out).
  local common=(--mode "$mode" --epsilon 8 --step-size 0.8 --pgd-steps "$pgd" --train-steps 10 --stop-error 0.01
                "${sub[@]}" --seed "$SEED" --max-rounds "$maxr" "${limit[@]}")
  mkdir -p "$dir"
  for impl in $IMPLS; do
    local target=$dir/$impl rc=0 start
    if [[ $FRESH == 1 ]]; then rm -rf "$target" "$dir/verify-$impl"; fi
    if [[ $FRESH == 1 || ! -f $dir/meta-$impl.json ]]; then
      say "$mode-wise noise with $impl: ${common[*]}"
      start=$SECONDS
      if [[ $impl == cloak ]]; then
        # Both implement the reference's class-wise update (per-image steps, then the mean), Cloak's only one.
        $CLOAK unlearnable "$DATA/train" --out "$target" "${common[@]}" --model small --quiet --store "$STORE" || rc=$?
      else
        $PY $HERE/em_pytorch.py --train "$DATA/train" --out "$target" "${common[@]}" --channels-last || rc=$?
      fi
      local wall=$((SECONDS - start)) check=failed
      say "$mode-wise $impl: exit $rc after ${wall}s; checking the outputs"
      if $PY $HERE/check_outputs.py "$DATA/train" "$target" --mode "$mode" --epsilon 8 "${limit[@]}"; then check=passed; fi
      printf '{"wall": %d, "exit": %d, "check": "%s"}\n' "$wall" "$rc" "$check" > "$dir/meta-$impl.json"
    fi
  done
  # Verification after both generations, so that the generations run back to back on the same machine state.
  for impl in $IMPLS; do
    local target=$dir/$impl
    if [[ $VERIFY == 1 && $HAVE_VERIFY == 1 && -f $target/noise.npy && ! -f $dir/verify-$impl/report.json ]]; then
      say "verifying the $impl $mode-wise noise (SmallCNN, $EPOCHS epochs, $COUNTERMEASURES)"
      # The clean baseline is trained once per mode: the second verification reuses it from the store.
      $CLOAK verify "$target" --test "$DATA/test" --baseline "$DATA/train" "${vlimit[@]}" --model small \
        --epochs "$EPOCHS" --countermeasures "$COUNTERMEASURES" --seed "$SEED" --report "$dir/verify-$impl" \
        --quiet --store "$STORE" > "$dir/verify-$impl.md" || echo "bench-unlearnable: cloak verify failed for $impl ($mode)" >&2
    fi
  done
  $PY $HERE/summarize.py "$dir" --mode "$mode"
}

for mode in $MODES; do run_mode "$mode"; done
say "results"
for mode in $MODES; do cat "$OUT/$mode/results.md"; echo; done
