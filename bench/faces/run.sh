#!/usr/bin/env bash
# make bench-faces: the face cloak's speed at the default mode (mid: 50 Adam steps, 4 jittered chips per step).
#
#   1. Cloak end to end: the sample photos (Datasets/face-samples) cloaked by `cloak faces` in a fresh process;
#      seconds per face and per photo, with the photo and face sizes.
#   2. Side by side, in the same run: one cloak step's network work in PyTorch (bench/faces/torch_step.py: dlib's
#      face ResNet with random weights, 4 chips warped by grid_sample from a face-region crop, forward and
#      backward to the crop, frozen parameters; Debian python3-torch, 2 threads, fastest of NCHW/channels_last),
#      against Cloak's time per step: median seconds per face / 50, and Cloak's step timed directly, part by part
#      (bench/faces/StepTiming.swift, compiled against the objects of the same build by build-step-timing.sh).
# Interleaved rounds (the two sides alternate), medians over rounds; bench/faces/compare.py prints the tables.
# About 3-4 minutes after the build on 2 busy cores.
#
# Environment:
#   BENCH_DATA=Datasets/face-samples   the photos (make setup fetches them)
#   BENCH_ROUNDS=3                     interleaved rounds
#   BENCH_REPS=20                      timed PyTorch steps per form and layout (after 3 untimed ones; Cloak's
#                                      step timing: half as many per face, at least 5)
#   BENCH_CROP=400                     side of the PyTorch face-region crop, pixels
#   BENCH_MODE=mid                     the cloak mode (Cloak ms/step divides by its steps: 25/50/100)
#   BENCH_OUT=                         keep every round's JSON there (default: a temporary folder, removed)
#   BENCH_BUILD=1                      0: do not build; use CLOAK_BIN (default .build/release/cloak)
#   BENCH_STEP=1                       0: skip Cloak's step timed directly (bench/faces/StepTiming.swift)
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=/usr/bin/python3
DATA=${BENCH_DATA:-Datasets/face-samples}
CLOAK=${CLOAK_BIN:-.build/release/cloak}

export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

say() { printf '\n== %s\n' "$*" >&2; }

# --- PyTorch baseline: Debian's Python with python3-torch (not pyenv's python3) --------------------------------
if ! { [[ -x $PY ]] && $PY -c "import torch" 2>/dev/null; }; then
  say "installing python3-torch (the PyTorch baseline)"
  SUDO=; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi

# --- Cloak, built as the Makefile builds it -------------------------------------------------------------------
if [[ ${BENCH_BUILD:-1} == 1 ]]; then
  CPU_FLAGS=()
  grep -m1 -qw avx512f /proc/cpuinfo 2>/dev/null && CPU_FLAGS=(-Xswiftc -target-cpu -Xswiftc znver4)
  say "building Cloak (release)"
  swift build -c release -Xswiftc -enable-testing "${CPU_FLAGS[@]}" --product cloak
fi
if ! $CLOAK faces --help >/dev/null 2>&1; then
  echo "bench-faces: $CLOAK has no 'faces' command" >&2
  exit 1
fi
# Cloak's step timed directly: bench/faces/StepTiming.swift linked against the objects of that build.
STEP=()
if [[ ${BENCH_STEP:-1} == 1 ]]; then
  say "compiling cloak-face-step (Cloak's step, timed part by part)"
  if bash bench/faces/build-step-timing.sh; then
    STEP=(--step .build/release/cloak-face-step)
  else
    echo "bench-faces: cloak-face-step did not build; the table shows no direct step timing" >&2
  fi
fi

say "cloaking $DATA and timing the PyTorch step, ${BENCH_ROUNDS:-3} interleaved rounds"
args=(--cloak "$CLOAK" "${STEP[@]}" --data "$DATA" --rounds "${BENCH_ROUNDS:-3}" --reps "${BENCH_REPS:-20}"
      --crop "${BENCH_CROP:-400}" --mode "${BENCH_MODE:-mid}")
[[ -n ${BENCH_OUT:-} ]] && args+=(--out "$BENCH_OUT")
$PY bench/faces/compare.py "${args[@]}"
