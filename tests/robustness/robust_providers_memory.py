#!/usr/bin/env python3
"""Resident memory of a node with 1,000 providers (issue 13: under 64 MiB).

attestd (2 workers) gets PROVIDERS providers through the management API,
then one attestation of a development-platform SGX quote per provider (so
each provider is loaded, its policy compiled and cached), then a second
round of the same. VmRSS (from /proc) must stay under 64 MiB after both
rounds, and every answer must be 201/200. One keep-alive connection.
"""
import http.client
import json
import os

import rlib

PROVIDERS = int(os.environ.get("ATTEST_ROBUST_PROVIDERS", "1000"))
BOUND_KIB = 64 * 1024


def main():
    work = rlib.workdir("providers")
    srv = rlib.Attestd(work, extra=["--log-level", "error"])
    try:
        srv.start()
        body = rlib.sgx_body(srv)
        base_rss = srv.vmrss_kib()
        c = srv.conn(timeout=30)
        auth = {"Authorization": "Bearer " + srv.admin(), "Content-Type": "application/json"}

        def call(method, path, data, headers):
            nonlocal c
            for _ in range(2):  # one reconnect if the server closed the keep-alive connection
                try:
                    c.request(method, path, body=data, headers=headers)
                    r = c.getresponse()
                    return r.status, r.read()
                except (http.client.HTTPException, OSError):
                    c.close()
                    c = srv.conn(timeout=30)
            rlib.fail("%s %s: connection failed twice" % (method, path))

        for i in range(PROVIDERS):
            st, resp = call("PUT", "/management/providers/m%d" % i, json.dumps({"mode": "aad"}), auth)
            if st not in (200, 201):
                rlib.fail("create provider m%d: %d %s" % (i, st, resp[:200]))
        after_create = srv.vmrss_kib()
        rounds = []
        for rnd in range(2):
            for i in range(PROVIDERS):
                st, resp = call("POST", "/providers/m%d/attest/SgxEnclave?%s" % (i, rlib.API), body,
                                {"Content-Type": "application/json"})
                if st != 200:
                    rlib.fail("attest on provider m%d: %d %s" % (i, st, resp[:200]))
            rounds.append(srv.vmrss_kib())
        c.close()
        rlib.log("%d providers: VmRSS %d KiB at start, %d KiB after creating them, %d / %d KiB after one / two "
                 "attestations on each (bound %d KiB)" % (PROVIDERS, base_rss, after_create, rounds[0], rounds[1],
                                                          BOUND_KIB))
        if max(rounds) > BOUND_KIB:
            rlib.fail("VmRSS %d KiB with %d providers: over %d KiB" % (max(rounds), PROVIDERS, BOUND_KIB))
        srv.stop()
        rlib.log("PASS")
    finally:
        srv.kill()
        rlib.cleanup(work)


if __name__ == "__main__":
    main()
