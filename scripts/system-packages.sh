#!/usr/bin/env bash
# Debian packages the services and the tests need. Idempotent.
#   chromium                  the pages' browser tests (Playwright through executable_path;
#                             nothing downloads a browser)
#   fonts-noto-core, -cjk     Noto for every script on badges and documents
#   cups, printer-driver-cups-pdf   the desk printer's queue in the tests (a PDF printer)
set -euo pipefail

packages=(chromium fonts-noto-core fonts-noto-cjk cups printer-driver-cups-pdf)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing Debian packages: ${missing[*]} (apt-get install them)" >&2
  exit 1
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
