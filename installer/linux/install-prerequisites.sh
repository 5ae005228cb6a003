#!/usr/bin/env bash
# Installs what Directory Sync and its lab need on a Debian 12 machine, then the npm packages, and
# proves at the end that everything is there. Safe to run again.
#
#   bash installer/linux/install-prerequisites.sh           install, then check (root, or a user with sudo)
#   bash installer/linux/install-prerequisites.sh --check   only check; exit 1 naming what to install
#
# The check does not trust what apt-get said: it asks dpkg for every package below and looks for
# every file the lab and the product open, so a machine that happens to have (or lack) something
# cannot hide a missing install step. The lab runs the same check when it cannot provision.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Debian packages, with what needs them. --no-install-recommends keeps the machine small, so every
# Recommends we rely on is listed by name (samba Recommends samba-ad-provision, samba-dsdb-modules,
# samba-vfs-modules; chromium Recommends fonts-liberation).
packages=(
  samba               # the lab's AD domain controller (samba, samba-tool)
  samba-ad-provision  # the AD schema files samba-tool domain provision reads
  samba-dsdb-modules  # the directory database's ldb modules (samba_dsdb, samba_secrets, dirsync…)
  samba-vfs-modules   # file-server modules samba loads at start
  winbind             # identity mapping of the DC
  krb5-user           # Kerberos tools of the DC's realm
  ldap-utils          # ldapsearch: the lab's readiness probe, the benchmarks' reference dump
  ldb-tools           # ldbmodify: registers the lab's UPN suffixes
  chromium            # browser mode and the end-to-end tests
  fonts-liberation    # text in Chromium's pages and screenshots
  iproute2            # ip netns (a second DC beside the first), ss (who holds a port)
  openssl             # the lab's CA and the DC's LDAPS certificate
  ca-certificates     # TLS trust store
  procps              # process tools the lab's stop uses
  jq                  # reading .lab/connection.json in the README's examples
  nsis                # makensis: the tests compile the Windows installer's NSIS script
  libxml2-utils       # xmllint: the tests validate the Windows service's WinSW configuration
  squid-openssl       # a real proxy for the network tests: CONNECT with Basic authentication, TLS inspection (ssl-bump)
  systemd             # systemd-analyze: the tests verify the service unit
  python3 make g++    # building better-sqlite3 if no prebuilt binary fits
)

# Files the project opens, each with the package that provides it (globs for the multiarch path).
files=(
  "samba|/usr/sbin/samba"
  "samba-common-bin|/usr/bin/samba-tool"
  "samba-ad-provision|/usr/share/samba/setup/ad-schema/AD_DS_Attributes__Windows_Server_2012_R2.ldf"
  "samba-ad-provision|/usr/share/samba/setup/ad-schema/AD_DS_Classes__Windows_Server_2012_R2.ldf"
  "samba-dsdb-modules|/usr/lib/*/samba/ldb/samba_dsdb.so"
  "samba-dsdb-modules|/usr/lib/*/samba/ldb/samba_secrets.so"
  "samba-dsdb-modules|/usr/lib/*/samba/ldb/dirsync.so"
  "samba-vfs-modules|/usr/lib/*/samba/vfs/acl_xattr.so"
  "ldap-utils|/usr/bin/ldapsearch"
  "ldb-tools|/usr/bin/ldbmodify"
  "chromium|/usr/bin/chromium"
  "fonts-liberation|/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"
  "iproute2|/usr/bin/ip"
  "iproute2|/usr/bin/ss"
  "openssl|/usr/bin/openssl"
  "ca-certificates|/etc/ssl/certs/ca-certificates.crt"
  "jq|/usr/bin/jq"
  "nsis|/usr/bin/makensis"
  "libxml2-utils|/usr/bin/xmllint"
  "squid-openssl|/usr/sbin/squid"
  "squid-openssl|/usr/lib/squid/basic_ncsa_auth"
  "squid-openssl|/usr/lib/squid/security_file_certgen"
  "systemd|/usr/bin/systemd-analyze"
)

# What npm ci must leave behind (a native addon that failed to build leaves no .node file).
npm_files=(
  node_modules/better-sqlite3/build/Release/better_sqlite3.node
  node_modules/playwright-core/package.json
  node_modules/electron/electron.d.ts
  node_modules/.bin/tsx
  "node_modules/@primno/dpapi/prebuilds/win32-x64/@primno+dpapi.node"
)

min_node="20.19.0"

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e '
    const [a, b, c] = process.versions.node.split(".").map(Number);
    const [x, y, z] = process.argv[1].split(".").map(Number);
    process.exit(a > x || (a === x && (b > y || (b === y && c >= z))) ? 0 : 1);' "$min_node"
}

check() {
  local missing=() broken=() entry pkg pattern
  for pkg in "${packages[@]}"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != "installed" ]; then
      missing+=("$pkg")
    fi
  done
  for entry in "${files[@]}"; do
    pkg=${entry%%|*}
    pattern=${entry#*|}
    # shellcheck disable=SC2086 # the pattern is a glob on purpose
    if ! compgen -G "$pattern" >/dev/null; then
      broken+=("$pattern (Debian package $pkg)")
      case " ${missing[*]} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
    fi
  done
  if ! node_ok; then
    broken+=("node >= $min_node (found: $(node --version 2>/dev/null || echo none); Debian 12's nodejs is too old: install Node.js 20 LTS from nodejs.org or NodeSource)")
  fi
  if ! command -v npm >/dev/null 2>&1; then broken+=("npm (it comes with Node.js)"); fi
  local npm_missing=()
  for entry in "${npm_files[@]}"; do
    [ -e "$entry" ] || npm_missing+=("$entry")
  done

  if [ ${#missing[@]} -eq 0 ] && [ ${#broken[@]} -eq 0 ] && [ ${#npm_missing[@]} -eq 0 ]; then
    echo "Prerequisites: all ${#packages[@]} Debian packages, ${#files[@]} files and the npm packages are present; node $(node --version)."
    return 0
  fi
  {
    echo "Prerequisites are missing on this machine:"
    for entry in "${broken[@]}"; do echo "  - missing: $entry"; done
    for entry in "${npm_missing[@]}"; do echo "  - missing: $entry (run: npm ci)"; done
    if [ ${#missing[@]} -gt 0 ]; then
      echo "Install the Debian packages with:"
      echo "  apt-get install --no-install-recommends ${missing[*]}"
    fi
    echo "or run: bash installer/linux/install-prerequisites.sh"
  } >&2
  return 1
}

if [ "${1:-}" = "--check" ]; then
  check
  exit
fi
if [ $# -gt 0 ]; then
  echo "usage: bash $0 [--check]" >&2
  exit 2
fi

# Debian packages need root: as root run apt-get directly (a minimal Debian root shell has no sudo);
# as a user, through sudo.
if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  as_root() { sudo "$@"; }
else
  echo "install-prerequisites.sh installs Debian packages: run it as root (su -c 'bash $0') or install sudo." >&2
  exit 1
fi

if ! node_ok; then
  echo "Directory Sync needs Node.js >= $min_node (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "Debian 12's nodejs package is 18.x: install Node.js 20 LTS (nodejs.org or NodeSource), then run this again." >&2
  exit 1
fi

echo "Installing Debian packages: ${packages[*]}"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

# The Electron binary is fetched at first launch, not at install time; nothing to download here.
# Native addons (better-sqlite3) build against this Node's own headers when they are installed
# beside it, rather than downloading them (a machine without internet has no other way).
node_prefix=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi
# npm packages belong to whoever owns the checkout: under sudo, install them as that user.
if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$(stat -c %U .)" = "$SUDO_USER" ]; then
  sudo -u "$SUDO_USER" -H env ${npm_config_nodedir:+npm_config_nodedir="$npm_config_nodedir"} npm ci --no-audit --no-fund
else
  npm ci --no-audit --no-fund
fi

check
