#!/usr/bin/env bash
# The docs runner itself: every rule it enforces fails a document that breaks
# it, and a document that keeps them passes. Each case is a small Markdown file
# in a scratch source folder; the runner is the one ctest runs on docs/.
#   tests/docs/test_run_docs_selftest.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1 build=$2
runner="$src/tests/docs/run_docs.py"
tmp=$(mktemp -d /tmp/attest-docs-self-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/docs"
cp -r "$src/docs/examples" "$tmp/docs/examples"
ln -s "$src/tests" "$tmp/tests"
failures=0

# expect pass|fail NAME PATTERN: runs the runner on $tmp/docs/NAME.md; for fail,
# PATTERN must appear in its output (the reason, not just any failure).
expect() {
  local want=$1 name=$2 pattern=${3:-} out rc
  out=$(python3 "$runner" --src "$tmp" --build "$build" "docs/$name.md" 2>&1)
  rc=$?
  if [ "$want" = pass ] && [ "$rc" -eq 0 ]; then
    echo "ok: $name passes"
  elif [ "$want" = fail ] && [ "$rc" -ne 0 ] && grep -qF -- "$pattern" <<<"$out"; then
    echo "ok: $name fails with: $pattern"
  else
    echo "NOT OK: $name: expected $want${pattern:+ ($pattern)}, exit $rc"
    echo "$out" | tail -15 | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}
doc() { cat >"$tmp/docs/$1.md"; }

doc unmarked <<'EOF'
```sh
echo hello
```
EOF
expect fail unmarked 'block without a marker'

doc no_language <<'EOF'
```
attestctl provider list
```
EOF
expect fail no_language 'fence without a language'

doc no_reason <<'EOF'
<!-- run: no -->
```sh
make run
```
EOF
expect fail no_reason "needs its reason"

doc unknown_context <<'EOF'
<!-- run: staging -->
```sh
true
```
EOF
expect fail unknown_context "unknown context"

doc failing_command <<'EOF'
<!-- run: local -->
```sh
true
attestctl provider bogus-verb
echo never reached
```
EOF
expect fail failing_command 'failing_command.md:2'

doc bad_inline_option <<'EOF'
Create it with `attestctl provider create contoso --moed isolated`.
EOF
expect fail bad_inline_option '--moed is not an option'

doc bad_inline_verb <<'EOF'
See `attestctl keys rotat`.
EOF
expect fail bad_inline_verb "no verb 'rotat'"

doc bad_bracket_option <<'EOF'
`attestctl token verify @t.jwt [--issuer URL] [--audience A]`
EOF
expect fail bad_bracket_option '--audience is not an option'

doc stale_path <<'EOF'
The verifier is `src/evidence/no_such_verifier.c`; tested by `tests/docs/run_docs.py`.
EOF
expect fail stale_path 'src/evidence/no_such_verifier.c` names no file'

doc stale_link <<'EOF'
See [the claims](claims-nosuch.md) and [the API](api.md).
EOF
cp "$src/docs/api.md" "$tmp/docs/api.md"
expect fail stale_link 'the link (claims-nosuch.md) leads nowhere'

doc bad_make_target <<'EOF'
Build with `make build`, then `make chek`.
EOF
cp "$src/Makefile" "$tmp/Makefile"
expect fail bad_make_target "no target 'chek' in the Makefile"

doc unrun_block_drift <<'EOF'
<!-- run: no (a benchmark of minutes) -->
```sh
make bench
tests/ha/with_pg.sh bench/ha/no_such_benchmark.sh build/debug 5
attestctl keys rotate --all
ctest --test-dir build/debug -L no-such-label --output-on-failure
```
EOF
expect fail unrun_block_drift "(not run, but) \`bench/ha/no_such_benchmark.sh\` names no file"
expect fail unrun_block_drift "--all is not an option of \`attestctl keys rotate\`"
expect fail unrun_block_drift "\`ctest -L no-such-label\` selects no test"

doc unrun_block_syntax <<'EOF'
<!-- run: no (needs a real TEE) -->
```sh
if attestctl attest SgxEnclave /dev/sgx_quote; then echo ok
```
EOF
expect fail unrun_block_syntax 'bash -n'

doc run_on_json <<'EOF'
<!-- run: local -->
```json
{"not": "a command"}
```
EOF
expect fail run_on_json 'a run: marker on a ```json block'

doc console_drift <<'EOF'
<!-- run: local -->
```console
$ echo one; echo two
one
three
```
EOF
expect fail console_drift 'output differs from the doc'

doc console_exit <<'EOF'
<!-- run: local -->
```console
$ attestctl provider bogus-verb
…unknown verb 'bogus-verb'…
```
EOF
expect fail console_exit 'exit 2, the doc shows 0'

doc check_fails <<'EOF'
<!-- run: local -->
```sh
echo 'port = 8443' >x.conf
```
<!-- check:
grep -q 'port = 443$' x.conf
-->
EOF
expect fail check_fails '(check)'

doc attestd_bad_config <<'EOF'
<!-- file: /etc/attestd/attestd.conf -->
```ini
data = /var/lib/attestd
dev = true
no_such_option = 1
```

<!-- run: local -->
```sh
attestd --config /etc/attestd/attestd.conf
```
EOF
expect fail attestd_bad_config 'exited (2) before it listened'


# What passes: every marker kind, hidden setup, checks, substitutions, files,
# console matching with elisions and an expected exit status, the dev server.
doc good <<'EOF'
Inline: `attestctl --url https://h/providers/p policy set SgxEnclave p.txt --signing-key k.pem --signing-cert c.pem`,
`attestctl signer add|remove c.pem --signing-key k --signing-cert c`, `attestd --dev --trust-roots F`.

<!-- dev-args: --max-body 64 -->

<!-- run: no (needs a real SGX machine) -->
```sh
attestctl attest SgxEnclave /dev/sgx_quote
```

<!-- file: /etc/attestd/attestd.conf -->
```ini
data = /var/lib/attestd
dev = true
```

<!-- run: local
echo hidden >hidden.txt
-->
```sh
attestd --config /etc/attestd/attestd.conf
test -s hidden.txt
GREETING=hello
```
<!-- check:
test -s var/lib/attestd/attestd.db
-->

<!-- run: dev -->
```console
$ echo "$GREETING"; attestctl provider create contoso >/dev/null && echo created
hello
created
$ curl --cacert data/tls/dev-cert.pem https://127.0.0.1:8443/healthz
ok
$ curl --cacert data/tls/dev-cert.pem https://127.0.0.1:8443/management/providers
curl: (22) The requested URL returned error: 401
[exit 22]
$ attestctl provider bogus-verb
...
[exit 2]
$ printf 'a\nb\nc\nd\n'
a
...
d
$ head -c 100 /dev/zero | curl --no-fail -o /dev/null -w '%{http_code}\n' --cacert data/tls/dev-cert.pem --data-binary @- 'https://127.0.0.1:8443/attest/SgxEnclave?api-version=2022-08-01'
413
```
EOF
expect pass good

if [ "$failures" -ne 0 ]; then
  echo "FAIL: $failures case(s) of the docs runner misbehaved"
  exit 1
fi
echo "PASS: the docs runner fails each broken document for its reason and passes the good one"
