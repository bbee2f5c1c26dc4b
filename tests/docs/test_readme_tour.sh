#!/usr/bin/env bash
# Runs the README's tour (the lines between <!-- tour:begin --> and
# <!-- tour:end -->) against a fresh attestd started the way `make run`
# starts it, from a scratch copy laid out like the source folder.
#   tests/docs/test_readme_tour.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d /tmp/attest-tour-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/build/release/src/cli" "$tmp/docs/examples"
ln -s "$build/src/cli/attestctl" "$tmp/build/release/src/cli/attestctl"
cp "$src/docs/examples/"*.policy "$tmp/docs/examples/"
cd "$tmp"
port=$(( 20000 + RANDOM % 20000 ))
# The development platform's keys as a second `make run` finds them (made once
# per build: the first `dev init` spends seconds on RSA-4096 keys).
mkdir -p data/devplat
cp -r "$(python3 "$src/tests/docs/run_docs.py" --build "$build" --devplat-keys)" data/devplat/keys
"$build/src/cli/attestctl" dev init --dir data/devplat >/dev/null
"$build/src/server/attestd" --dev --data data --port "$port" --bootstrap-admin-file data/admin-credential \
  --trust-roots data/devplat/roots.pem --collateral-dir data/devplat/collateral >attestd.log 2>&1 &
pid=$!
for _ in $(seq 1 300); do [ -s data/admin-credential ] && [ -s data/tls/dev-cert.pem ] && break; sleep 0.1; done
sleep 0.5
sed -n '/<!-- tour:begin -->/,/<!-- tour:end -->/p' "$src/README.md" | sed '/^<!--/d; /^```/d' |
  sed "s/127.0.0.1:8443/127.0.0.1:$port/g" >tour.sh
echo "--- running the README tour ($(grep -c '^attestctl' tour.sh) attestctl commands)"
bash -euo pipefail -x tour.sh || { echo "--- attestd log"; tail -20 attestd.log; exit 1; }
echo "PASS: the README tour runs as written"
