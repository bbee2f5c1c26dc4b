#!/usr/bin/env python3
"""Secrets stay secret (issue 13).

attestd starts in an empty data folder under a permissive umask (022) with
--log-level debug. Then:
  - modes: the data folder is 0700; kek.bin, attestd.db (+ -wal/-shm), the
    development TLS key and the bootstrap credential file are 0600 (no group
    or other bits);
  - the store holds no plaintext private key (no PEM PRIVATE KEY header),
    and the TPM context master key only sealed under the KEK (its meta row
    a 'TKM1' blob); a plaintext key row of earlier versions
    (tpm_service_key) is retired at the next start;
  - after a round of requests (attestation, refusals, management, key
    rotation, policies, metrics, OpenID metadata) neither attestd's stdout
    and stderr nor any response contains a PEM private-key header, the KEK
    (raw, hex, base64, base64url) or the body of the TLS private key.
Core dumps: attestd is non-dumpable (PR_SET_DUMPABLE 0, src/server/main.c)
and keeps private keys and the KEK in OpenSSL's secure heap
(src/keys/secmem.c), an anonymous mapping marked MADV_DONTDUMP ("dd" in
VmFlags of /proc/<pid>/smaps) and mlocked where RLIMIT_MEMLOCK allows
("lo"): the test requires that mapping (KEYS_SECURE_HEAP_SIZE, 4 MiB) and
reports whether it is locked.
"""
import base64
import json
import os
import re
import sqlite3
import stat

import rlib

SECURE_HEAP_SIZE = 4 << 20  # KEYS_SECURE_HEAP_SIZE, src/keys/keys.h


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def tpm_key_rows(db):
    """The TPM key rows of the meta table: {key: value}."""
    c = sqlite3.connect(db, timeout=10)
    try:
        return dict(c.execute("SELECT key, value FROM meta WHERE key IN ('tpm_context_master', 'tpm_service_key')")
                    .fetchall())
    finally:
        c.close()


def check_tpm_key_rows(db):
    rows = tpm_key_rows(db)
    if not re.fullmatch(r"544b4d31[0-9a-f]{120}", rows.get("tpm_context_master", "")):
        rlib.fail("the TPM context master key row is not a sealed 'TKM1' blob: %r" % rows.get("tpm_context_master"))
    if re.fullmatch(r"[0-9a-fA-F]{64}", rows.get("tpm_service_key", "")):
        rlib.fail("the store holds a plaintext TPM service key (tpm_service_key)")
    return rows


def main():
    os.umask(0o022)
    work = rlib.workdir("secrets")
    srv = rlib.Attestd(work, extra=["--log-level", "debug"])
    responses = []
    try:
        srv.start()
        body = rlib.sgx_body(srv)

        def req(method, path, **kw):
            st, h, b = srv.request(method, path, **kw)
            responses.append(b"%d %s\n" % (st, "\n".join("%s: %s" % kv for kv in h.items()).encode()) + b)
            return st, b

        st, _ = req("POST", "/attest/SgxEnclave?" + rlib.API, body=body, headers={"Content-Type": "application/json"})
        if st != 200:
            rlib.fail("the development quote does not attest: %d" % st)
        req("POST", "/attest/SgxEnclave?" + rlib.API, body='{"quote":"AAAA"}', headers={"Content-Type": "application/json"})
        req("POST", "/attest/SgxEnclave?" + rlib.API, body='{not json', headers={"Content-Type": "application/json"})
        req("POST", "/attest/TdxVm?" + rlib.API, body=body, headers={"Content-Type": "application/json"})
        req("GET", "/certs")
        req("GET", "/.well-known/openid-configuration")
        req("GET", "/metrics")
        req("GET", "/management/providers", admin=True)
        req("GET", "/management/providers", headers={"Authorization": "Bearer wrong"})
        req("PUT", "/management/providers/p1", body='{"mode":"aad"}', headers={"Content-Type": "application/json"},
            admin=True)
        req("POST", "/management/keys:rotate", admin=True)
        req("POST", "/management/providers/p1/keys:rotate", admin=True)
        req("PUT", "/policies/SgxEnclave?" + rlib.API, body=rlib.policy_jws("version=1.0; authorizationrules { => permit(); }; issuancerules { };"),
            headers={"Content-Type": "text/plain"}, admin=True)
        req("GET", "/policies/SgxEnclave?" + rlib.API, admin=True)
        req("GET", "/management/audit", admin=True)
        req("GET", "/certs")
        smaps_dd, heap, smaps_ok = [], None, False
        try:
            with open("/proc/%d/smaps" % srv.proc.pid) as f:
                name, size = "", 0
                for line in f:
                    if line[:1] in "0123456789abcdef" and "-" in line.split(" ")[0]:
                        name = line.split()[-1] if len(line.split()) > 5 else ""
                    elif line.startswith("Size:"):
                        size = int(line.split()[1]) * 1024
                    elif line.startswith("VmFlags:") and " dd" in line and not name.startswith(("[vvar", "[vdso")):
                        smaps_dd.append((name or "anonymous", size))  # the kernel's [vvar]/[vdso] are always dd
                        # OpenSSL's secure heap (src/keys/secmem.c): 1 MiB arena + guard pages, anonymous
                        if not name and size >= SECURE_HEAP_SIZE and heap is None:
                            heap = (size, " lo" in line)
            smaps_ok = True
        except OSError as e:
            rlib.log("cannot read attestd's smaps (%s): the secure-heap check needs root or the same user" % e)
        srv.stop()

        d = srv.data
        want = {d: 0o700, os.path.join(d, "kek.bin"): 0o600, os.path.join(d, "attestd.db"): 0o600,
                os.path.join(d, "tls", "dev-key.pem"): 0o600, srv.admin_file: 0o600}
        for suffix in ("-wal", "-shm"):
            if os.path.exists(os.path.join(d, "attestd.db" + suffix)):
                want[os.path.join(d, "attestd.db" + suffix)] = 0o600
        for p, m in want.items():
            if not os.path.exists(p):
                rlib.fail("%s was not created" % p)
            if mode(p) & 0o077:
                rlib.fail("%s has mode %o: group/other bits set (want %o)" % (p, mode(p), m))
        rlib.log("modes: " + ", ".join("%s %o" % (os.path.relpath(p, work), mode(p)) for p in want))

        kek = open(os.path.join(d, "kek.bin"), "rb").read()
        tls_key = open(os.path.join(d, "tls", "dev-key.pem")).read()
        key_body = "".join(line for line in tls_key.splitlines() if not line.startswith("-----"))
        needles = {"PEM private key header": [b"PRIVATE KEY"],
                   "KEK": [kek, kek.hex().encode(), kek.hex().upper().encode(), base64.b64encode(kek),
                           base64.urlsafe_b64encode(kek).rstrip(b"=")],
                   "TLS private key body": [key_body[i:i + 40].encode() for i in range(0, len(key_body) - 40, 40)]}
        haystacks = {"attestd stderr": open(srv.stderr_path, "rb").read(),
                     "attestd stdout": open(srv.stdout_path, "rb").read(),
                     "responses": b"\n".join(responses)}
        if len(kek) != 32:
            rlib.fail("kek.bin is %d bytes, not 32" % len(kek))
        for hname, hay in haystacks.items():
            for nname, ns in needles.items():
                for n in ns:
                    if n and n in hay:
                        i = hay.find(n)
                        rlib.fail("%s contains the %s: ...%r..." % (hname, nname, hay[max(0, i - 80):i + 40]))
        db = open(os.path.join(d, "attestd.db"), "rb").read()
        if os.path.exists(os.path.join(d, "attestd.db-wal")):
            db += open(os.path.join(d, "attestd.db-wal"), "rb").read()
        if b"PRIVATE KEY" in db or kek in db:
            rlib.fail("the store holds a plaintext PEM private key or the KEK")
        sealed = check_tpm_key_rows(os.path.join(d, "attestd.db"))["tpm_context_master"]
        # A store of an earlier version held the TPM key in plain hex: the next start retires it.
        c = sqlite3.connect(os.path.join(d, "attestd.db"), timeout=10)
        try:
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('tpm_service_key', ?)", ("ab" * 32,))
            c.commit()
        finally:
            c.close()
        srv.start()
        srv.stop()
        rows = check_tpm_key_rows(os.path.join(d, "attestd.db"))
        if "tpm_service_key" not in rows or "ab" * 32 in rows["tpm_service_key"]:
            rlib.fail("the plaintext TPM key row of an earlier version was not retired: %r" % rows)
        if rows["tpm_context_master"] != sealed:
            rlib.fail("a restart replaced the sealed TPM context master key")
        rlib.log("TPM context master key sealed under the KEK (%s...); a plaintext row of an earlier version retired"
                 % sealed[:16])
        if smaps_ok and heap is None:
            rlib.fail("no anonymous MADV_DONTDUMP mapping of %d bytes or more in attestd's smaps: the secure heap "
                      "that holds the private keys is missing (mappings marked dd: %s)" % (SECURE_HEAP_SIZE, smaps_dd))
        rlib.log("no private key, KEK or TLS key in %d bytes of logs and %d responses; store has no plaintext key; "
                 "mappings marked MADV_DONTDUMP: %s; secure heap: %s" %
                 (sum(len(h) for h in haystacks.values()), len(responses), smaps_dd,
                  "%d bytes, %s" % (heap[0], "mlocked" if heap[1] else "not mlocked (RLIMIT_MEMLOCK)") if heap
                  else "not checked"))
        rlib.log("PASS")
    finally:
        srv.kill()
        rlib.cleanup(work)


if __name__ == "__main__":
    main()
