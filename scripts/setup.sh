#!/usr/bin/env bash
# Installs everything attestd needs to build, run and test on a fresh Debian 12
# machine: Debian packages and the npm packages of the independent test clients.
# Idempotent, and quick when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format clang-tidy cppcheck
  libssl-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libtss2-dev
  libcurl4-openssl-dev libcmocka-dev
  postgresql swtpm swtpm-tools tpm2-tools haproxy wrk hyperfine valgrind
  nodejs npm openssl curl ca-certificates
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # nodejs/npm may come from elsewhere (the image's own node); accept a working binary.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The independent checkers used by the interop tests and benchmarks.
if [ ! -d tests/interop/node_modules/@azure/attestation ] || [ ! -d tests/interop/node_modules/jose ] ||
   [ tests/interop/package-lock.json -nt tests/interop/node_modules ]; then
  echo "setup: installing npm packages for tests/interop"
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "setup: all dependencies present"
