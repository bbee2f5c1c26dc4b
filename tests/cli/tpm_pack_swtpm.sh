#!/usr/bin/env bash
# `attestctl tpm pack` on what tpm2-tools really writes: a software TPM
# (swtpm, tests/integration/tpm/swtpm.sh) quotes its PCRs; the quote, its
# signature, the -F values PCR file and the AK public area (TPM2B_PUBLIC, and
# PEM) are packed and verified offline; tpm2_checkquote, the peer, agrees on
# the same files; a wrong nonce and a PCR file of another quote are refused.
#   tests/cli/tpm_pack_swtpm.sh ATTESTCTL SOURCE_DIR      (exit 77: no swtpm)
set -euo pipefail
ctl=$1 src=$2
command -v swtpm >/dev/null && command -v tpm2_quote >/dev/null || { echo "SKIP: swtpm/tpm2-tools missing"; exit 77; }
dir=$(mktemp -d /tmp/attest-tpmpack-XXXXXX)
trap '"$src/tests/integration/tpm/swtpm.sh" stop "$dir" || true; rm -rf "$dir"' EXIT
"$src/tests/integration/tpm/swtpm.sh" start "$dir"
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$(cat "$dir/port")"
flush() { tpm2_flushcontext -t >/dev/null 2>&1 || true; tpm2_flushcontext -l >/dev/null 2>&1 || true
          tpm2_flushcontext -s >/dev/null 2>&1 || true; }
tpm2_pcrextend "16:sha256=$(printf 'attestd' | sha256sum | cut -c1-64)"; flush
printf 'nonce-0042' >"$dir/nonce.bin"
all=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 # offline verify wants all 24, as MAA
nonce=$(xxd -p "$dir/nonce.bin")
# tpm2_quote -o writes its default (serialized) PCR file; tpm2_pcrread -o the plain values.
tpm2_quote -c "$dir/ak.ctx" -l sha256:$all -q "$nonce" -m "$dir/q.msg" -s "$dir/q.sig" \
  -o "$dir/q.pcrs" -g sha256 >/dev/null; flush
tpm2_pcrread sha256:$all -o "$dir/q.values" >/dev/null; flush
tpm2_readpublic -c "$dir/ak.ctx" -f pem -o "$dir/ak.pem" >/dev/null; flush
tpm2_checkquote -u "$dir/ak.pem" -m "$dir/q.msg" -s "$dir/q.sig" -f "$dir/q.pcrs" -g sha256 -q "$nonce" >/dev/null
echo "tpm2_checkquote: verified"
for pcrs in "$dir/q.pcrs" "$dir/q.values"; do
  for ak in "$dir/ak.pub" "$dir/ak.pem"; do
    "$ctl" tpm pack --quote "$dir/q.msg" --signature "$dir/q.sig" --pcrs "$pcrs" --ak-public "$ak" -o "$dir/ev.json"
    "$ctl" verify Tpm "$dir/ev.json" --no-collateral --runtime-data "$dir/nonce.bin" >"$dir/out"
    grep -q "aikPubHash" "$dir/out"
    echo "attestctl verify: verified (PCRs $(basename "$pcrs"), AK $(basename "$ak"))"
  done
done
printf 'nonce-0043' >"$dir/other.bin"
if "$ctl" verify Tpm "$dir/ev.json" --no-collateral --runtime-data "$dir/other.bin" >"$dir/out" 2>&1; then
  echo "FAIL: a wrong nonce verified"; exit 1; fi
grep -q "tpm.quote.nonce" "$dir/out" || { cat "$dir/out"; exit 1; }
# PCR values of a later state: the quote's digest no longer matches them.
tpm2_pcrextend "16:sha256=$(printf 'later' | sha256sum | cut -c1-64)"; flush
tpm2_pcrread sha256:$all -o "$dir/later.pcrs" >/dev/null; flush
"$ctl" tpm pack --quote "$dir/q.msg" --signature "$dir/q.sig" --pcrs "$dir/later.pcrs" --ak-public "$dir/ak.pub" \
  -o "$dir/ev2.json"
if "$ctl" verify Tpm "$dir/ev2.json" --no-collateral --runtime-data "$dir/nonce.bin" >"$dir/out" 2>&1; then
  echo "FAIL: PCR values the quote does not cover verified"; exit 1; fi
grep -q "tpm.quote.pcr_digest" "$dir/out" || { cat "$dir/out"; exit 1; }
echo "PASS: tpm2-tools files packed and verified; wrong nonce and other PCR values refused"
