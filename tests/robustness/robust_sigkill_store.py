#!/usr/bin/env python3
"""SIGKILL of attestd during a burst of policy writes never corrupts the store
(issue 13; SQLite, and PostgreSQL when run under tests/ha/with_pg.sh): writers PUT numbered policies and create providers as fast
as the service acknowledges them; attestd is killed with SIGKILL in the middle
(ROUNDS times, at different moments); after each restart every acknowledged
write is readable (each provider's policy is the last acknowledged version or
a later one that was committed but not yet answered; every acknowledged
provider exists), GET /management/audit:verify says the chain is intact with
at least one row per acknowledged write, and (SQLite) integrity_check is ok.
"""
import json
import os
import re
import threading
import time

import rlib

WRITERS = 3
ROUNDS = int(os.environ.get("ATTEST_ROBUST_KILL_ROUNDS", "3"))


def policy_text(writer, n):
    return ('version=1.0; authorizationrules { => permit(); }; issuancerules { '
            '=> issue(type="w%d", value="%d"); };' % (writer, n))


def writer(srv, w, acked, stop, errors):
    """Loops: PUT policy version n on provider w<w>; every 4th step creates a provider."""
    n = acked["policy"].get(w, 0)
    while not stop.is_set():
        n += 1
        try:
            if n % 4 == 0:
                name = "k%d-%d-%d" % (w, acked["round"], n)
                st, _, body = srv.request("PUT", "/management/providers/" + name,
                                          body=json.dumps({"mode": "aad"}),
                                          headers={"Content-Type": "application/json"}, admin=True, timeout=5)
                if st in (200, 201):
                    acked["providers"].add(name)
                elif st >= 500:
                    errors.append("provider %s: %d %s" % (name, st, body[:200]))
                continue
            st, _, body = srv.request("PUT", "/providers/w%d/policies/SgxEnclave?%s" % (w, rlib.API),
                                      body=rlib.policy_jws(policy_text(w, n)),
                                      headers={"Content-Type": "text/plain"}, admin=True, timeout=5)
            if st == 200:
                acked["policy"][w] = n
                acked["count"] += 1
            elif st >= 500:
                errors.append("policy w%d/%d: %d %s" % (w, n, st, body[:200]))
        except OSError:
            # the kill: the connection dropped, the write is unacknowledged
            if stop.is_set():
                return
            time.sleep(0.01)


def check(srv, acked):
    for w in range(WRITERS):
        st, _, body = srv.request("GET", "/providers/w%d/policies/SgxEnclave?%s" % (w, rlib.API), admin=True)
        if st != 200:
            rlib.fail("GET policy of w%d after restart: %d %s" % (w, st, body[:300]))
        claims = rlib.jwt_claims(json.loads(body)["token"])
        text = json.dumps(claims)
        m = re.search(r'type=\\*"w%d\\*", value=\\*"(\d+)' % w, text)
        if not m:
            # the policy may be returned as a JWS: decode it
            pol = claims.get("x-ms-policy", "")
            if isinstance(pol, str) and pol.count(".") == 2:
                inner = rlib.jwt_claims(pol).get("AttestationPolicy", "")
                import base64
                text = base64.urlsafe_b64decode(inner + "=" * (-len(inner) % 4)).decode()
                m = re.search(r'type="w%d", value="(\d+)' % w, text)
        want = acked["policy"].get(w, 0)
        if want and not m:
            rlib.fail("provider w%d: no numbered policy after restart (acked %d): %s" % (w, want, text[:300]))
        got = int(m.group(1)) if m else 0
        if got < want:
            rlib.fail("provider w%d: policy version %d after restart, but %d was acknowledged" % (w, got, want))
    for name in sorted(acked["providers"]):
        st, _, body = srv.request("GET", "/management/providers/" + name, admin=True)
        if st != 200:
            rlib.fail("acknowledged provider %s missing after restart: %d %s" % (name, st, body[:200]))
    st, _, body = srv.request("GET", "/management/audit:verify", admin=True)
    v = json.loads(body) if st == 200 else {}
    if st != 200 or v.get("intact") is not True:
        rlib.fail("audit chain after SIGKILL: %d %s" % (st, body[:400]))
    need = acked["count"] + len(acked["providers"])
    if v.get("rows", 0) < need:
        rlib.fail("audit has %s rows, fewer than the %d acknowledged writes" % (v.get("rows"), need))
    return v["rows"]


def main():
    work = rlib.workdir("sigkill")
    # Under tests/ha/with_pg.sh the store is a throw-away PostgreSQL primary.
    pg = os.environ.get("ATTEST_TEST_STORE_URI")
    srv = rlib.Attestd(work, dev_platform=False, extra=["--store", pg] if pg else None)
    try:
        srv.start()
        for w in range(WRITERS):
            st, _, body = srv.request("PUT", "/management/providers/w%d" % w, body=json.dumps({"mode": "aad"}),
                                      headers={"Content-Type": "application/json"}, admin=True)
            if st not in (200, 201):
                rlib.fail("create provider w%d: %d %s" % (w, st, body[:300]))
        acked = {"policy": {}, "providers": set(), "count": 0, "round": 0}
        for rnd in range(ROUNDS):
            acked["round"] = rnd
            stop, errors = threading.Event(), []
            ts = [threading.Thread(target=writer, args=(srv, w, acked, stop, errors)) for w in range(WRITERS)]
            for t in ts:
                t.start()
            time.sleep(1.0 + 0.7 * rnd)  # a different moment each round
            before = acked["count"]
            srv.kill()
            stop.set()
            for t in ts:
                t.join(30)
            if errors:
                rlib.fail("5xx during the write burst: %s" % errors[:3])
            if before == 0:
                rlib.fail("round %d: no write was acknowledged before the kill (server too slow?)" % rnd)
            if not pg:
                ic = rlib.sqlite_integrity(os.path.join(srv.data, "attestd.db"))
                if ic != "ok":
                    rlib.fail("integrity_check after SIGKILL: %s" % ic)
            srv.start()
            rows = check(srv, acked)
            rlib.log("round %d (%s): killed after %d acknowledged policy writes, %d providers; restart: all "
                     "readable, audit intact (%d rows)%s" % (rnd, "PostgreSQL" if pg else "SQLite", acked["count"],
                                                              len(acked["providers"]), rows,
                                                              "" if pg else ", integrity ok"))
        srv.stop()
        rlib.log("PASS")
    finally:
        srv.kill()
        rlib.cleanup(work)


if __name__ == "__main__":
    main()
