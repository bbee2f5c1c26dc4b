#!/usr/bin/env python3
"""A full disk and a read-only data folder give clear errors and no corruption
(issue 13). The data folder lives on a small tmpfs (mount needs root or
CAP_SYS_ADMIN; without it the test is skipped with a message).

Full disk: attestd runs; a filler file takes every free byte; policy writes
must each answer promptly, 200 or a 5xx with an error body naming the
problem, never crash or hang the node; reads keep working. The filler is
removed: writes work again. After a restart every acknowledged write is
there, the audit chain verifies and SQLite's integrity_check is ok.

Read-only: the tmpfs is remounted read-only and attestd started on it: it
must either refuse to start with a message on stderr, or serve with writes
refused by a clear 5xx; the store is intact after the folder is writable
again.
"""
import json
import os
import re
import subprocess

import rlib


def policy(n):
    return 'version=1.0; authorizationrules { => permit(); }; issuancerules { => issue(type="n", value="%d"); };' % n


def put_policy(srv, n):
    return srv.request("PUT", "/policies/SgxEnclave?" + rlib.API, body=rlib.policy_jws(policy(n)),
                       headers={"Content-Type": "text/plain"}, admin=True, timeout=20)


def current_version(srv):
    st, _, body = srv.request("GET", "/policies/SgxEnclave?" + rlib.API, admin=True)
    if st != 200:
        rlib.fail("GET policy: %d %s" % (st, body[:300]))
    m = re.search(r'type=\\*"n\\*", value=\\*"(\d+)', json.dumps(rlib.jwt_claims(json.loads(body)["token"])))
    if not m:
        pol = rlib.jwt_claims(json.loads(body)["token"]).get("x-ms-policy", "")
        inner = rlib.jwt_claims(pol).get("AttestationPolicy", "") if pol.count(".") == 2 else ""
        import base64
        text = base64.urlsafe_b64decode(inner + "=" * (-len(inner) % 4)).decode(errors="replace")
        m = re.search(r'type="n", value="(\d+)', text)
    return int(m.group(1)) if m else 0


def clear_error(st, body):
    """A 5xx (or 4xx) with the MAA error body and a message."""
    try:
        e = json.loads(body)["error"]
        return st >= 400 and e.get("code") and e.get("message")
    except (ValueError, KeyError, TypeError):
        return False


def audit_intact(srv):
    st, _, body = srv.request("GET", "/management/audit:verify", admin=True)
    if st != 200 or json.loads(body).get("intact") is not True:
        rlib.fail("audit chain: %d %s" % (st, body[:300]))


def fill(path):
    n = 0
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
                n += 65536
        except OSError:
            pass
    return n


def main():
    work = rlib.workdir("disk")
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        rlib.cleanup(work)
        rlib.skip("cannot mount a small tmpfs here (%s): full-disk and read-only checks not run" % r.stderr.strip())
    srv = rlib.Attestd(work, data=os.path.join(mnt, "data"), dev_platform=False)
    try:
        srv.start()
        st, _, body = put_policy(srv, 1)
        if st != 200:
            rlib.fail("first policy write: %d %s" % (st, body[:300]))
        acked = 1
        filler = os.path.join(mnt, "filler")
        got = fill(filler)
        rlib.log("disk full: filler of %d KiB" % (got // 1024))
        refused = []
        for n in range(2, 42):
            st, _, body = put_policy(srv, n)
            if st == 200:
                acked = n
            elif st >= 500 and clear_error(st, body):
                refused.append((st, json.loads(body)["error"]["message"][:160]))
            else:
                rlib.fail("write %d on a full disk: %d %s (want 200 or a 5xx with an error body)" % (n, st, body[:300]))
            if srv.proc.poll() is not None:
                rlib.fail("attestd died on a full disk: %s" % srv.stderr_tail())
        if not refused:
            rlib.fail("40 policy writes on a full disk all succeeded: the disk was not full?")
        rlib.log("full disk: %d writes refused, e.g. %s; last acknowledged %d" % (len(refused), refused[0], acked))
        st, _, _ = srv.request("GET", "/certs")
        if st != 200:
            rlib.fail("reads fail on a full disk: GET /certs %d" % st)
        os.unlink(filler)
        st, _, body = put_policy(srv, 100)
        if st != 200:
            rlib.fail("write after space came back: %d %s" % (st, body[:300]))
        acked = 100
        srv.stop()
        ic = rlib.sqlite_integrity(os.path.join(srv.data, "attestd.db"))
        if ic != "ok":
            rlib.fail("integrity_check after the full disk: %s" % ic)
        srv.start()
        if current_version(srv) != acked:
            rlib.fail("after restart the policy is %d, acknowledged %d" % (current_version(srv), acked))
        audit_intact(srv)
        srv.stop()

        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        started = srv.start(expect_ok=False, timeout=30)
        if not started:
            msg = srv.stderr_tail(400).strip().splitlines()
            if not msg:
                rlib.fail("attestd refused a read-only data folder without a message")
            rlib.log("read-only data folder: attestd refused to start (exit %d): %s" % (srv.proc.returncode, msg[-1]))
        else:
            st, _, body = put_policy(srv, 200)
            if st < 500 or not clear_error(st, body):
                rlib.fail("a write on a read-only data folder: %d %s" % (st, body[:300]))
            rlib.log("read-only data folder: serves, writes refused: %d %s" % (st, body[:200]))
            srv.stop()
        subprocess.run(["mount", "-o", "remount,rw", mnt], check=True)
        srv.start()
        if current_version(srv) != acked:
            rlib.fail("after the read-only episode the policy is %d, acknowledged %d" % (current_version(srv), acked))
        audit_intact(srv)
        srv.stop()
        ic = rlib.sqlite_integrity(os.path.join(srv.data, "attestd.db"))
        if ic != "ok":
            rlib.fail("integrity_check after the read-only episode: %s" % ic)
        rlib.log("PASS")
    finally:
        srv.kill()
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        rlib.cleanup(work)


if __name__ == "__main__":
    main()
