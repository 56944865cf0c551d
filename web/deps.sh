#!/bin/sh
# Installs what the web build and its browser tests need, from Debian's packages (root on Debian 12; run by
# `make deps`): emscripten (the compiler), chromium (the browser the tests drive), node and npm when no node is
# on PATH, and a deb-src entry for Debian's archive so `apt-get source jansson nlopt` can fetch the two C
# libraries' sources to compile for WebAssembly. playwright-core comes from the npm registry (web/package.json).
set -e
if ! grep -rqs '^Types: deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat > /etc/apt/sources.list.d/scaleplan-deb-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
fi
pkgs="emscripten chromium cmake dpkg-dev"
command -v node >/dev/null || pkgs="$pkgs nodejs"
command -v npm >/dev/null || pkgs="$pkgs npm"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs
