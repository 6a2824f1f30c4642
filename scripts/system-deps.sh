#!/usr/bin/env bash
# Install the Debian packages the back office needs (WeasyPrint's Pango and HarfBuzz subsetter,
# Chinese fonts, gettext). As root on Debian it installs what is missing; otherwise it prints
# the exact command to run and carries on.
set -euo pipefail

# Usage: system-deps.sh [test]. "test" adds Chromium for the end-to-end tests, poppler-utils,
# redis-server for the test that runs a real Celery worker (production points CELERY_BROKER_URL at its own),
# and openssl, which makes the certificates of the webhook tests' https receiver.
# fonts-hanazono: its HanaMinB has 99.9 % of CJK Ext B-F, of which Noto Serif CJK lacks 96 % (BabelStone Han: a third of Ext B); SIL OFL; 22 MB.
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-hanazono gettext)
if [ "${1:-}" = "test" ]; then
  packages+=(chromium poppler-utils redis-server openssl)
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
else
  echo "Not a Debian system: make sure these (or their equivalents) are installed: ${packages[*]}" >&2
  exit 0
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
fi
