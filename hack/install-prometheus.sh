#!/usr/bin/env bash
# Debian's Prometheus server and promtool, used by the integration tests and the demo.
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The package starts a system service where systemd runs; the tests start their own servers.
$SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
