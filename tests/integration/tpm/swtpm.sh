#!/usr/bin/env bash
# Drives a software TPM (swtpm + tpm2-tools) for the TPM integration tests
# (tests/unit/evidence/test_tpm_swtpm.c). Recipe and gotchas:
# shared/reference/platform-notes.md §2 (3, 4, 5, 8, 12) and §3.
#
#   swtpm.sh start DIR             start swtpm on loopback ports P, P+1; create EK (+cert) and AK
#   swtpm.sh ak2 DIR               create a second AK (ak2.*) under the same EK
#   swtpm.sh extend DIR FILE       extend "pcr sha1hex sha256hex" lines of FILE
#   swtpm.sh quote DIR AK NONCEHEX OUT   quote SHA-256 PCRs 0-23 with AK (ak|ak2) -> OUT.msg OUT.sig
#   swtpm.sh pcrs DIR OUT          SHA-256 PCRs 0-23 as 24 x 32 raw bytes -> OUT
#   swtpm.sh activate DIR AK       privacy-CA check: a secret sealed to the EK for the AK's name
#                                  (TPM2_MakeCredential, offline) is recovered by the TPM
#                                  (TPM2_ActivateCredential) only if AK and EK share the TPM
#   swtpm.sh stop DIR              stop swtpm
set -euo pipefail

cmd=${1:?command}; dir=${2:?state dir}

flush() { tpm2_flushcontext -t >/dev/null 2>&1 || true; tpm2_flushcontext -l >/dev/null 2>&1 || true;
          tpm2_flushcontext -s >/dev/null 2>&1 || true; }
tcti() { export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$(cat "$dir/port")"; }

free_port_pair() {
  # two adjacent free ports: the swtpm TCTI hard-codes control = data + 1
  python3 - <<'PY'
import socket, random
for _ in range(200):
    p = random.randint(20000, 60000) & ~1
    ok = True
    for q in (p, p + 1):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", q))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        print(p); break
PY
}

case "$cmd" in
start)
  mkdir -p "$dir/state" "$dir/localca"
  # private swtpm_setup / localca configuration (platform-notes gotcha 12)
  cat >"$dir/swtpm-localca.conf" <<CONF
statedir = $dir/localca
signingkey = $dir/localca/signkey.pem
issuercert = $dir/localca/issuercert.pem
certserial = $dir/localca/certserial
CONF
  : >"$dir/swtpm-localca.options"
  cat >"$dir/swtpm_setup.conf" <<CONF
create_certs_tool = /usr/bin/swtpm_localca
create_certs_tool_config = $dir/swtpm-localca.conf
create_certs_tool_options = $dir/swtpm-localca.options
CONF
  swtpm_setup --tpm2 --tpmstate "$dir/state" --config "$dir/swtpm_setup.conf" --create-ek-cert \
    --lock-nvram --pcr-banks sha1,sha256 --overwrite >"$dir/setup.log" 2>&1
  port=$(free_port_pair)
  echo "$port" >"$dir/port"
  swtpm socket --tpm2 --tpmstate dir="$dir/state" --server type=tcp,port="$port",bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
    >"$dir/swtpm.log" 2>&1 &
  echo $! >"$dir/pid"
  tcti
  for _ in $(seq 50); do tpm2_getcap properties-fixed >/dev/null 2>&1 && break; sleep 0.1; done
  tpm2_nvread 0x01c00002 -o "$dir/ek-cert.der" >/dev/null 2>&1 || true
  tpm2_createek -c "$dir/ek.ctx" -G rsa -u "$dir/ek.pub" >/dev/null; flush
  tpm2_createak -C "$dir/ek.ctx" -c "$dir/ak.ctx" -G rsa -g sha256 -s rsassa -u "$dir/ak.pub" \
    -n "$dir/ak.name" >/dev/null; flush
  ;;
ak2)
  tcti
  tpm2_createek -c "$dir/ek.ctx" -G rsa -u "$dir/ek.pub" >/dev/null; flush
  tpm2_createak -C "$dir/ek.ctx" -c "$dir/ak2.ctx" -G rsa -g sha256 -s rsassa -u "$dir/ak2.pub" \
    -n "$dir/ak2.name" >/dev/null; flush
  ;;
extend)
  tcti
  while read -r pcr s1 s256; do
    [ -n "$pcr" ] || continue
    tpm2_pcrextend "$pcr:sha1=$s1,sha256=$s256"
  done <"${3:?extends file}"
  ;;
quote)
  tcti
  ak=${3:?ak}; nonce=${4:?nonce hex}; out=${5:?out prefix}
  tpm2_quote -c "$dir/$ak.ctx" -l sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 \
    -q "$nonce" -m "$out.msg" -s "$out.sig" -g sha256 >/dev/null
  flush
  ;;
pcrs)
  tcti
  : >"${3:?out}"
  # one read per PCR keeps the output format trivial (hex lines)
  tpm2_pcrread sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 |
    sed -n 's/^ *\([0-9]*\) *: *0x\([0-9A-Fa-f]*\)$/\1 \2/p' >"$3"
  ;;
activate)
  tcti
  ak=${3:?ak}
  openssl rand -out "$dir/secret.bin" 32
  tpm2_makecredential -T none -u "$dir/ek.pub" -s "$dir/secret.bin" -n "$(xxd -p -c 256 "$dir/$ak.name")" \
    -o "$dir/cred.out" >/dev/null 2>&1
  tpm2_createek -c "$dir/ek.ctx" -G rsa -u "$dir/ek.pub" >/dev/null 2>&1; flush
  tpm2_startauthsession --policy-session -S "$dir/session.ctx" 2>/dev/null
  tpm2_policysecret -S "$dir/session.ctx" -c e >/dev/null
  tpm2_activatecredential -c "$dir/$ak.ctx" -C "$dir/ek.ctx" -i "$dir/cred.out" -o "$dir/actcred.out" \
    -P "session:$dir/session.ctx" >/dev/null 2>&1
  tpm2_flushcontext "$dir/session.ctx" >/dev/null 2>&1 || true
  flush
  cmp -s "$dir/secret.bin" "$dir/actcred.out"
  ;;
stop)
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    swtpm_ioctl --tcp 127.0.0.1:$(($(cat "$dir/port") + 1)) -s >/dev/null 2>&1 || true
    for _ in $(seq 20); do
      st=$(ps -o stat= -p "$pid" 2>/dev/null || true)
      case "$st" in ""|Z*) break ;; esac
      sleep 0.1
    done
    st=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    case "$st" in ""|Z*) ;; *) kill "$pid" 2>/dev/null || true ;; esac
    rm -f "$dir/pid"
  fi
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
