#!/usr/bin/env bash
# Registers the Directory Synchronization Service with systemd, running as the dedicated low-privilege
# account "dirsync" that alone can read its data directory (store, key file, logs). The Linux
# packages run it after installing; run it by hand for a tar.gz install. Safe to run again (an
# upgrade keeps the account, the data directory and its contents).
#
#   bash installer/linux/install-service.sh [--app-dir DIR] [--node PATH] [--unit-dir DIR] [--no-start]
set -euo pipefail

app_dir=$(cd "$(dirname "$0")/../.." && pwd)
node_bin=$(command -v node || true)
unit_dir=/etc/systemd/system
data_dir=/var/lib/dirsync
start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --app-dir) app_dir=$2; shift 2 ;;
    --node) node_bin=$2; shift 2 ;;
    --unit-dir) unit_dir=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    *) echo "usage: bash $0 [--app-dir DIR] [--node PATH] [--unit-dir DIR] [--no-start]" >&2; exit 2 ;;
  esac
done

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

# The account: a system user with no shell and no password, in its own group.
if ! getent group dirsync >/dev/null; then groupadd --system dirsync; fi
if ! getent passwd dirsync >/dev/null; then
  useradd --system --gid dirsync --home-dir "$data_dir" --no-create-home --shell /usr/sbin/nologin \
    --comment "Directory Synchronization Service" dirsync
fi

# The data directory belongs to the account alone; a store made by an earlier root install moves over.
install -d -m 0700 -o dirsync -g dirsync "$data_dir"
chown -R dirsync:dirsync "$data_dir"
chmod 0700 "$data_dir"

install -d -m 0755 "$unit_dir"
unit="$unit_dir/directory-sync.service"
sed -e "s|@NODE@|$node_bin|g" -e "s|@APP_DIR@|$app_dir|g" "$app_dir/installer/linux/directory-sync.service.in" >"$unit.tmp"
chmod 0644 "$unit.tmp"
mv "$unit.tmp" "$unit"
echo "Installed $unit (runs as dirsync, data in $data_dir)."

if [ -d /run/systemd/system ] && [ "$unit_dir" = /etc/systemd/system ]; then
  systemctl daemon-reload
  if [ "$start" = 1 ]; then
    systemctl enable --now directory-sync.service
    echo "Started directory-sync.service; it starts at boot."
  else
    systemctl enable directory-sync.service
  fi
else
  echo "systemd is not running here: start the service with: sudo -u dirsync $node_bin $app_dir/engine/bin/dirsync.js --data-dir $data_dir service run"
fi
