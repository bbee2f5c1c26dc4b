#!/usr/bin/env bash
# `make install` as a user meets it: install a build into a temporary prefix,
# build the example relying party against the installed libattest through
# pkg-config, and run it on a real Azure Attestation token.
#   examples/install_test.sh BUILD_DIR SOURCE_DIR VECTORS_DIR
set -euo pipefail
build=$1 src=$2 vectors=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in sbin/attestd bin/attestctl include/attest/attest.h lib/pkgconfig/libattest.pc \
         lib/systemd/system/attestd.service share/man/man1/attestctl.1 share/man/man8/attestd.8; do
  [ -e "$tmp/prefix/$f" ] || { echo "FAIL: make install did not install $f"; exit 1; }
done
# The unit names the prefix chosen at configure time (CMAKE_INSTALL_PREFIX), as packages do.
grep -q "^ExecStart=/.*/sbin/attestd --config /.*/attestd/attestd.conf$" "$tmp/prefix/lib/systemd/system/attestd.service" ||
  { echo "FAIL: the systemd unit does not start attestd with its config"; exit 1; }
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$tmp/rp" "$src/examples/relying_party.c" $(pkg-config --cflags --libs libattest) \
  -Wl,-rpath,"$tmp/prefix/lib"
"$tmp/prefix/bin/attestctl" --version >/dev/null
maa=$vectors/maa-tokens/js-2022-01-28-sharedwus
if [ -f "$maa/certs.json" ]; then
  "$tmp/rp" "$maa/tokens/attest-SgxEnclave-binary-runtime.jwt" "$maa/certs.json" \
    https://sharedwus.wus.attest.azure.net b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2 1643440000 |
    grep -q "secret:" || { echo "FAIL: the installed example did not release the secret"; exit 1; }
fi
echo "PASS: installed and built against libattest $(pkg-config --modversion libattest)"
