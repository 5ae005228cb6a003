#!/usr/bin/env bash
# Removes the Directory Synchronization Service from systemd. A synchronization run in progress is
# waited for (Ctrl+C cancels the removal, and nothing is removed then). The data directory — the
# configuration, the store with its links and history, the encrypted secrets — is kept unless
# --purge is given (and confirmed, or --yes), so a reinstall carries on where it stopped.
#
#   bash installer/linux/uninstall-service.sh [--purge [--yes]] [--unit-dir DIR] [--poll SECONDS]
#                                             [--app-dir DIR] [--node PATH] [--account NAME] [--data-dir DIR]
#
# --account and --data-dir (defaults dirsync and /var/lib/dirsync) are those given to install-service.sh.
set -euo pipefail

app_dir=$(cd "$(dirname "$0")/../.." && pwd)
node_bin=$(command -v node || true)
unit_dir=/etc/systemd/system
account=dirsync
data_dir=/var/lib/dirsync
purge=0
yes=0
poll=5
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) purge=1; shift ;;
    --yes) yes=1; shift ;;
    --unit-dir) unit_dir=$2; shift 2 ;;
    --node) node_bin=$2; shift 2 ;;
    --poll) poll=$2; shift 2 ;;
    --app-dir) app_dir=$2; shift 2 ;;
    --account) account=$2; shift 2 ;;
    --data-dir) data_dir=${2%/}; shift 2 ;;
    *) echo "usage: bash $0 [--purge [--yes]] [--unit-dir DIR] [--poll SECONDS] [--app-dir DIR] [--node PATH] [--account NAME] [--data-dir DIR]" >&2; exit 2 ;;
  esac
done
if ! [[ $account =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || ! [[ $data_dir =~ ^/[A-Za-z0-9._/-]+$ ]]; then
  echo "--account $account --data-dir $data_dir: give the account and the data directory install-service.sh was given." >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "uninstall-service.sh removes a system service: run it as root (or with sudo)." >&2
  exit 1
fi

# The run in progress, as the service's own store records it (read as the service account).
run_in_progress() {
  [ -f "$data_dir/dirsync.db" ] && [ -n "$node_bin" ] && getent passwd "$account" >/dev/null || return 1
  runuser -u "$account" -- "$node_bin" "$app_dir/engine/bin/dirsync.js" --data-dir "$data_dir" --json status 2>/dev/null |
    "$node_bin" -e '
      let text = ""; process.stdin.on("data", (c) => { text += c; }).on("end", () => {
        try {
          const run = JSON.parse(text).lastRun;
          if (run && run.status === "running") { console.log(`run ${run.id} (${run.kind}, started ${run.startedAt})`); process.exit(0); }
        } catch { /* no answer: nothing is running that we can see */ }
        process.exit(1);
      });'
}

cancelled() {
  echo
  echo "Removal cancelled: the service and its data are left as they were." >&2
  exit 130
}
trap cancelled INT

if running=$(run_in_progress); then
  echo "A synchronization is in progress ($running). Waiting for it to finish before removing the service;"
  echo "press Ctrl+C to cancel the removal."
  while run_in_progress >/dev/null; do sleep "$poll"; done
  echo "The run has finished."
fi
trap - INT

unit="$unit_dir/directory-sync.service"
if [ -d /run/systemd/system ] && [ "$unit_dir" = /etc/systemd/system ]; then
  # SIGTERM: a run that started meanwhile stops after the page of writes in flight, resumable.
  systemctl disable --now directory-sync.service 2>/dev/null || true
fi
rm -f "$unit"
if [ -d /run/systemd/system ] && [ "$unit_dir" = /etc/systemd/system ]; then systemctl daemon-reload; fi
echo "Removed the Directory Synchronization Service ($unit)."

if [ "$purge" = 1 ]; then
  if [ "$yes" != 1 ]; then
    if [ ! -t 0 ]; then
      echo "--purge deletes the configuration, the store and the secrets in $data_dir: confirm with --yes." >&2
      exit 1
    fi
    read -r -p "Delete $data_dir (configuration, store, secrets) and the account $account? [y/N] " answer
    case "$answer" in y|Y|yes|YES) ;; *) echo "Kept $data_dir."; exit 0 ;; esac
  fi
  rm -rf "$data_dir"
  if getent passwd "$account" >/dev/null; then userdel "$account"; fi
  if getent group "$account" >/dev/null; then groupdel "$account"; fi
  echo "Deleted $data_dir and the account $account."
else
  echo "Kept $data_dir (configuration, store, secrets) and the account $account: reinstalling carries on where it stopped;"
  if [ "$account" = dirsync ] && [ "$data_dir" = /var/lib/dirsync ]; then
    echo "remove them with: bash $0 --purge"
  else
    echo "remove them with: bash $0 --account $account --data-dir $data_dir --purge"
  fi
fi
