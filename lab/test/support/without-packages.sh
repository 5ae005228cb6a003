#!/usr/bin/env bash
# Runs a command on this machine as if some Debian packages were not installed: in a private mount
# namespace, every file the packages own is hidden and dpkg's status no longer lists them. Nothing
# outside the namespace changes, so the test suite can ask "what does a fresh machine without
# samba-ad-provision see?" on a machine that has it. Needs root (mount namespaces).
#
#   bash lab/test/support/without-packages.sh samba-ad-provision [more packages] -- command [args]
set -euo pipefail

if [ "${WITHOUT_PACKAGES_INSIDE:-}" != 1 ]; then
  exec env WITHOUT_PACKAGES_INSIDE=1 unshare --mount --propagation private bash "$0" "$@"
fi

packages=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do packages+=("$1"); shift; done
[ "${1:-}" = "--" ] && [ ${#packages[@]} -gt 0 ] && [ $# -gt 1 ] || {
  echo "usage: bash $0 PACKAGE... -- COMMAND [ARGS]" >&2
  exit 2
}
shift

stash=$(mktemp -d /tmp/without-packages.XXXXXX)
chmod 755 "$stash" # the symlinks left in place lead through it, for every user
declare -A hidden=()
for pkg in "${packages[@]}"; do
  dpkg-query -L "$pkg" >/dev/null 2>&1 || { echo "without-packages: $pkg is not installed here; nothing to hide" >&2; exit 2; }
  # Regular files and symlinks of the package (directories are shared with other packages).
  while read -r path; do
    # (not a directory, nor a symlink to one: merged-usr lists /lib and /bin as the package's)
    if { [ -f "$path" ] || [ -L "$path" ]; } && [ ! -d "$path" ]; then hidden["$path"]=1; fi
  done < <(dpkg-query -L "$pkg")
done

# Each directory holding a hidden file gets a tmpfs over it, filled (before it is moved into place,
# while every tool is still where it was) with symlinks to everything else the directory held.
# Deepest first, and the originals are stashed with --rbind, so a directory hidden inside another
# one stays hidden through the symlink.
n=0
while read -r dir; do
  n=$((n + 1))
  mkdir -p "$stash/$n/original" "$stash/$n/new"
  mount --rbind "$dir" "$stash/$n/original" || { echo "without-packages: cannot stash $dir" >&2; exit 1; }
  mount -t tmpfs -o mode="$(stat -c %a "$dir")" without-packages "$stash/$n/new"
  links=() targets=()
  for entry in "$stash/$n/original"/* "$stash/$n/original"/.[!.]*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    name=${entry##*/}
    [ -n "${hidden["$dir/$name"]:-}" ] && continue
    # A symlink is copied as it is (a relative one resolves the same from the same directory).
    if [ -L "$entry" ]; then links+=("$entry"); else targets+=("$entry"); fi
  done
  [ ${#targets[@]} -eq 0 ] || ln -s -t "$stash/$n/new" "${targets[@]}"
  [ ${#links[@]} -eq 0 ] || cp -P -t "$stash/$n/new" "${links[@]}"
  mount --move "$stash/$n/new" "$dir"
done < <(for path in "${!hidden[@]}"; do printf '%s\n' "${path%/*}"; done | sort -u | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-)

# dpkg's status without the packages' stanzas.
status=$(mktemp)
awk -v names=" ${packages[*]} " 'BEGIN { RS = ""; ORS = "\n\n" }
  { split($0, lines, "\n"); pkg = lines[1]; sub(/^Package: /, "", pkg) }
  index(names, " " pkg " ") == 0 { print }' /var/lib/dpkg/status >"$status"
mount --bind "$status" /var/lib/dpkg/status

exec "$@"
