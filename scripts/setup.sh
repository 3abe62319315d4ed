#!/bin/sh
# Installs what a fresh Debian 12 machine with Swift 6.3 lacks, then the Python test tools.
# Safe to rerun. libexpat1-dev is installed even when present: Debian's updates carry XML security fixes.
# libxml2-dev serves only the differential fuzz target (make fuzz).
set -eu

packages="libsodium-dev libexpat1-dev libxml2-dev libsqlite3-dev pkg-config python3-venv tmux"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

echo "setup: installing Debian packages: $packages"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $packages >/dev/null

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r Tests/requirements.txt
echo "setup: done"
