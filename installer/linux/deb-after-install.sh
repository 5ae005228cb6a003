#!/bin/sh
# deb postinst (electron-builder afterInstall): register the Directory Synchronization Service.
set -e
# The service runs on the Electron binary of the package, as Node.js (ELECTRON_RUN_AS_NODE in the unit).
exec bash "/opt/Directory Sync/resources/app/installer/linux/install-service.sh" \
  --app-dir "/opt/Directory Sync/resources/app" --node "/opt/Directory Sync/directory-sync"
