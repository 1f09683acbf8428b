#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (a real PostgreSQL 15 with pgaudit, its server headers and a
# C compiler for the test stand-in of Azure's pgaadauth label provider, Chromium for the browser tests, openssl for
# the test server's certificate), only those not installed yet. Needs root.
set -euo pipefail
packages=(postgresql-15 postgresql-15-pgaudit postgresql-server-dev-15 gcc libc6-dev chromium openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
