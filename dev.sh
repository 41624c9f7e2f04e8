#!/usr/bin/env bash
# Set-up and everyday commands for a fresh Debian or Ubuntu machine.
#   ./dev.sh demo   install what is missing, then run the demo (a screen tour without a display)
#   ./dev.sh test   install what is missing, then run every test
#   ./dev.sh setup  only install
set -euo pipefail
cd "$(dirname "$0")"

VENV=${VENV:-.venv}
# System packages: Python venv and headers (pyscard builds from source), PC/SC headers and
# swig for pyscard, the CJK font for screens and receipts, the libraries Qt needs offscreen
# and on X11, zbar to decode receipt QR codes in tests, pcscd and the vpcd virtual reader
# for the PC/SC tests, espeak-ng (run as a program, GPL-3) and aplay (alsa-utils) for the
# voice, PostgreSQL for the central's production store (the tests start their own temporary
# cluster from it), systemd-creds for the queue key credential, Weston (the kiosk compositor:
# the tests run its headless backend) and debootstrap (a throwaway Debian root).
APT_PACKAGES=(
  python3 python3-venv python3-dev gcc swig libpcsclite-dev
  fonts-noto-cjk libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libzbar0
  pcscd vsmartcard-vpcd systemd espeak-ng alsa-utils postgresql weston debootstrap
)
# Installed where the distribution has them as .deb: headless Chromium and its WebDriver for
# the central's fleet page and menu editor tests (Debian's `chromium`, `chromium-driver`;
# Ubuntu ships Chromium only as a snap, and there those tests are skipped).
OPTIONAL_APT_PACKAGES=(chromium chromium-driver)

missing_from() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

available() {
  # Those of the named packages that apt can install as a .deb here.
  local found=()
  for p in "$@"; do
    apt-cache show "$p" 2>/dev/null | grep -q '^Filename: ' && found+=("$p")
  done
  echo "${found[@]:-}"
}

install_system() {
  command -v dpkg-query >/dev/null || { echo "This script needs Debian or Ubuntu (dpkg)." >&2; exit 1; }
  local missing optional
  missing=$(missing_from "${APT_PACKAGES[@]}")
  optional=$(missing_from "${OPTIONAL_APT_PACKAGES[@]}")
  # Only optional ones missing: no update just for them unless apt already knows them
  # (so a machine without them as .deb does not run apt-get update on every call).
  # shellcheck disable=SC2086
  [ -z "$missing" ] && optional=$(available $optional)
  [ -z "$missing" ] && [ -z "$optional" ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    optional=$(available $optional)
    [ -z "$missing" ] && [ -z "$optional" ] && return 0
    echo "Installing system packages: $missing $optional"
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing $optional
  elif [ -z "$missing" ]; then
    echo "Optional: 'sudo apt-get install -y $optional' runs the fleet page test in Chromium" >&2
  else
    echo "Some system packages are missing. Install them with:" >&2
    echo "  sudo apt-get install -y $missing" >&2
    echo "then run this command again." >&2
    exit 1
  fi
}

python_bin() {
  # The newest python3 of at least 3.11 on PATH.
  for py in python3.13 python3.12 python3.11 python3; do
    if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      echo "$py"; return 0
    fi
  done
  echo "Python 3.11 or newer is needed." >&2
  exit 1
}

install_python() {
  local stamp="$VENV/.installed"
  if [ ! -x "$VENV/bin/python" ]; then
    "$(python_bin)" -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e '.[dev]'
    touch "$stamp"
  fi
}

setup() {
  install_system
  install_python
}

case "${1:-}" in
  setup) setup ;;
  demo) setup; shift; exec "$VENV/bin/python" -m kiosk demo "$@" ;;
  test) setup; shift; exec "$VENV/bin/python" -m pytest "$@" ;;
  *) echo "usage: ./dev.sh demo|test|setup" >&2; exit 2 ;;
esac
