#!/usr/bin/env bash
# Installs what Directory Sync and its lab need on a Debian machine, then the npm packages.
# Run as root (or with sudo). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" -ne 0 ]; then
  echo "install-prerequisites.sh: run it as root (sudo bash $0): it installs Debian packages." >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# samba/winbind/krb5-user/ldb-tools: the lab's Samba AD DC; ldap-utils: ldapsearch;
# chromium: browser mode and the end-to-end tests; iproute2: network namespaces for side-by-side DCs.
apt-get install -y -qq --no-install-recommends \
  samba winbind krb5-user ldap-utils ldb-tools chromium iproute2 openssl ca-certificates procps \
  python3 make g++ >/dev/null

# The Electron binary is fetched at first launch, not at install time; nothing to download here.
npm ci --no-audit --no-fund
