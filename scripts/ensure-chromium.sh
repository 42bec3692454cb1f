#!/usr/bin/env bash
# The studio's browser tests drive a local Chromium through playwright-core (never `npx playwright install`): the one
# at CHROMIUM_PATH, else Debian's /usr/bin/chromium. Installs Debian's when that default is missing and this machine
# can (root with apt-get); otherwise says what to do.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ -x "$CHROMIUM_PATH" ] && [ ! -d "$CHROMIUM_PATH" ]; then
    exit 0
  fi
  echo "CHROMIUM_PATH is set to '$CHROMIUM_PATH', which is not an executable file." >&2
  exit 1
fi
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get install chromium)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser tests need Chromium or Chrome: install Debian's with 'sudo apt-get install chromium', or point" >&2
echo "CHROMIUM_PATH at one, e.g. CHROMIUM_PATH=\"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome\" npm test" >&2
exit 1
