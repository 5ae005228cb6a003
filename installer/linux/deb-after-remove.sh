#!/bin/sh
# deb postrm (electron-builder afterRemove): the unit goes with the package; the data directory and the
# account stay unless the package is purged (dpkg --purge), so a reinstall carries on where it stopped.
set -e
if [ -d /run/systemd/system ]; then systemctl disable --now directory-sync.service >/dev/null 2>&1 || true; fi
rm -f /etc/systemd/system/directory-sync.service
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
if [ "$1" = purge ]; then
  rm -rf /var/lib/dirsync
  if getent passwd dirsync >/dev/null; then userdel dirsync; fi
  if getent group dirsync >/dev/null; then groupdel dirsync || true; fi
fi
