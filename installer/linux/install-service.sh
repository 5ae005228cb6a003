#!/usr/bin/env bash
# Registers the Directory Synchronization Service with systemd, running as the dedicated low-privilege
# account "dirsync" that alone can read its data directory (store, key file, logs). The Linux
# packages run it after installing; run it by hand for a tar.gz install. Safe to run again (an
# upgrade keeps the account, the data directory and its contents).
#
#   bash installer/linux/install-service.sh [--app-dir DIR] [--node PATH] [--unit-dir DIR] [--no-start]
#                                           [--account NAME] [--data-dir DIR]
#
# --account (default dirsync) and --data-dir (default /var/lib/dirsync) name another account and data
# directory, e.g. for a test that must not touch the machine's installation. A data directory outside
# /var/lib is made here (the unit's StateDirectory= only covers /var/lib); the unit hides /home, /root
# and /tmp from the service (ProtectHome=, PrivateTmp=), so a data directory there serves no service.
set -euo pipefail

app_dir=$(cd "$(dirname "$0")/../.." && pwd)
node_bin=$(command -v node || true)
unit_dir=/etc/systemd/system
account=dirsync
data_dir=/var/lib/dirsync
start=1
usage="usage: bash $0 [--app-dir DIR] [--node PATH] [--unit-dir DIR] [--no-start] [--account NAME] [--data-dir DIR]"
while [ $# -gt 0 ]; do
  case "$1" in
    --app-dir) app_dir=$2; shift 2 ;;
    --node) node_bin=$2; shift 2 ;;
    --unit-dir) unit_dir=$2; shift 2 ;;
    --account) account=$2; shift 2 ;;
    --data-dir) data_dir=${2%/}; shift 2 ;;
    --no-start) start=0; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
# The unit names both bare (User=, ExecStart=, ReadWritePaths=): no spaces or quotes in them.
if ! [[ $account =~ ^[a-z_][a-z0-9_-]{0,31}$ ]]; then
  echo "--account $account: an account name is up to 32 lower-case letters, digits, _ and -, not starting with a digit or -." >&2
  exit 2
fi
if ! [[ $data_dir =~ ^/[A-Za-z0-9._/-]+$ ]]; then
  echo "--data-dir $data_dir: give an absolute path of letters, digits and . _ - / only." >&2
  exit 2
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-service.sh registers a system service: run it as root (or with sudo)." >&2
  exit 1
fi
if [ -z "$node_bin" ] || [ ! -x "$node_bin" ]; then
  echo "Node.js was not found (give it with --node /path/to/node)." >&2
  exit 1
fi
if [ ! -f "$app_dir/engine/bin/dirsync.js" ]; then
  echo "$app_dir is not a Directory Sync installation (no engine/bin/dirsync.js): give it with --app-dir." >&2
  exit 1
fi

# The data directory is handed to the account whole (chown -R below): another than the default must
# be new, empty, the account's already, or hold a store (an earlier install's), never a directory of other things.
if [ "$data_dir" != /var/lib/dirsync ] && [ -d "$data_dir" ] && [ -n "$(ls -A "$data_dir")" ] &&
  [ ! -e "$data_dir/dirsync.db" ] && [ "$(stat -c %U "$data_dir")" != "$account" ]; then
  echo "--data-dir $data_dir holds other files: give a directory of the service's own." >&2
  exit 1
fi

# The account: a system user with no shell and no password, in its own group.
if ! getent group "$account" >/dev/null; then groupadd --system "$account"; fi
if ! getent passwd "$account" >/dev/null; then
  useradd --system --gid "$account" --home-dir "$data_dir" --no-create-home --shell /usr/sbin/nologin \
    --comment "Directory Synchronization Service" "$account"
fi

# The data directory belongs to the account alone; a store made by an earlier root install moves over.
install -d -m 0700 -o "$account" -g "$account" "$data_dir"
chown -R "$account:$account" "$data_dir"
chmod 0700 "$data_dir"

install -d -m 0755 "$unit_dir"
unit="$unit_dir/directory-sync.service"
# A value for sed's replacement: \, & and the | delimiter taken literally.
literal() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
# systemd makes a StateDirectory= under /var/lib only; elsewhere the directory made above is the one.
case "$data_dir" in
  /var/lib/?*) state=(-e "s|@STATE_DIRECTORY@|${data_dir#/var/lib/}|g") ;;
  *) state=(-e '/^StateDirectory/d') ;;
esac
sed -e "s|@NODE@|$(literal "$node_bin")|g" -e "s|@APP_DIR@|$(literal "$app_dir")|g" -e "s|@ACCOUNT@|$account|g" \
  -e "s|@DATA_DIR@|$data_dir|g" "${state[@]}" "$app_dir/installer/linux/directory-sync.service.in" >"$unit.tmp"
chmod 0644 "$unit.tmp"
mv "$unit.tmp" "$unit"
echo "Installed $unit (runs as $account, data in $data_dir)."

if [ -d /run/systemd/system ] && [ "$unit_dir" = /etc/systemd/system ]; then
  systemctl daemon-reload
  if [ "$start" = 1 ]; then
    systemctl enable --now directory-sync.service
    echo "Started directory-sync.service; it starts at boot."
  else
    systemctl enable directory-sync.service
  fi
else
  echo "systemd is not running here: start the service with: sudo -u $account $node_bin $app_dir/engine/bin/dirsync.js --data-dir $data_dir service run"
fi
