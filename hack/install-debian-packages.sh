#!/usr/bin/env bash
# Debian packages for the commands the tests and the demo run, installed only where a command is
# missing: hack/install-debian-packages.sh COMMAND=PACKAGE ...
#   (make prometheus: prometheus=prometheus promtool=prometheus; make lua: lua5.1=lua5.1 lua5.4=lua5.4)
set -euo pipefail
packages=()
for pair in "$@"; do
  command="${pair%%=*}" package="${pair#*=}"
  command -v "$command" >/dev/null || packages+=("$package")
done
[ "${#packages[@]}" -eq 0 ] && exit 0
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
if ! command -v apt-get >/dev/null; then
  echo "missing: ${packages[*]} (Debian package names); install them with your system's package manager" >&2
  exit 1
fi
echo "installing Debian packages: ${packages[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# The prometheus package starts a system service where systemd runs; the tests start their own servers.
if printf '%s\n' "${packages[@]}" | grep -qx prometheus; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
