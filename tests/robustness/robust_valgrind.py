#!/usr/bin/env python3
"""attestd under valgrind (memcheck) through a round of real requests
(issue 13: "a valgrind run of the integration suite is clean", here for the
service's main paths; the whole suite: make valgrind): start-up in an empty
folder (keys, store, TLS), SGX, TDX and SEV-SNP attestations that verify and
that are refused, malformed bodies, policy set
and read, provider creation, key rotation, audit verification, an oversized
body; then SIGTERM. Passes when valgrind reports no error (invalid reads or
writes, uses of uninitialised values, definite leaks) and attestd exits 0.
Label no-sanitize: valgrind and ASan do not mix.
"""
import json
import os
import shutil

import rlib
import vg_filter


def main():
    if shutil.which("valgrind") is None:
        rlib.skip("valgrind is not installed")
    work = rlib.workdir("valgrind")
    vlog = os.path.join(work, "valgrind.log")
    srv = rlib.Attestd(work, workers=2, extra=["--log-level", "warn"])
    srv.prefix = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                  "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite", "--track-origins=no",
                  "--log-file=" + vlog]
    try:
        srv.start(timeout=240)
        body = rlib.sgx_body(srv)
        tdx, snp = rlib.dev_body(srv, "tdx"), rlib.dev_body(srv, "snp")
        j = {"Content-Type": "application/json"}
        calls = [
            ("POST", "/attest/TdxVm?" + rlib.API, tdx, j, False, 200),
            ("POST", "/attest/TdxVm?" + rlib.API, tdx.replace('"quote": "', '"quote": "AAAA'), j, False, 400),
            ("POST", "/attest/SevSnpVm?" + rlib.API, snp, j, False, 200),
            ("POST", "/attest/SevSnpVm?" + rlib.API, '{"report":"e30"}', j, False, 400),
            ("POST", "/attest/SgxEnclave?" + rlib.API, body, j, False, 200),
            ("POST", "/attest/SgxEnclave?" + rlib.API, body, j, False, 200),
            ("POST", "/attest/SgxEnclave?" + rlib.API, '{"quote":"AAAA"}', j, False, 400),
            ("POST", "/attest/SgxEnclave?" + rlib.API, '{"quote":', j, False, 400),
            ("POST", "/attest/TdxVm?" + rlib.API, body, j, False, 400),
            ("POST", "/attest/SgxEnclave", body, j, False, 400),
            ("GET", "/certs", None, {}, False, 200),
            ("GET", "/.well-known/openid-configuration", None, {}, False, 200),
            ("GET", "/metrics", None, {}, False, 200),
            ("PUT", "/policies/SgxEnclave?" + rlib.API,
             rlib.policy_jws('version=1.0; authorizationrules { => permit(); }; issuancerules { => issue(type="v", value="1"); };'),
             {"Content-Type": "text/plain"}, True, 200),
            ("PUT", "/policies/SgxEnclave?" + rlib.API, rlib.policy_jws("version=1.0; authorizationrules { => permit() };"),
             {"Content-Type": "text/plain"}, True, 400),
            ("GET", "/policies/SgxEnclave?" + rlib.API, None, {}, True, 200),
            ("POST", "/attest/SgxEnclave?" + rlib.API, body, j, False, 200),
            ("PUT", "/management/providers/v1", json.dumps({"mode": "aad"}), j, True, 201),
            ("POST", "/providers/v1/attest/SgxEnclave?" + rlib.API, body, j, False, 200),
            ("POST", "/management/keys:rotate", None, {}, True, 200),
            ("POST", "/attest/SgxEnclave?" + rlib.API, body, j, False, 200),
            ("GET", "/management/audit:verify", None, {}, True, 200),
            ("GET", "/management/providers", None, {"Authorization": "Bearer nope"}, False, 401),
            ("POST", "/attest/SgxEnclave?" + rlib.API, "x" * (2 << 20), j, False, 413),
        ]
        for method, path, data, headers, admin, want in calls:
            try:
                st, _, resp = srv.request(method, path, body=data, headers=headers, admin=admin, timeout=120)
            except OSError as e:
                if want == 413:  # the server may close before the whole body is sent
                    continue
                rlib.fail("%s %s: %s" % (method, path, e))
            if st != want and not (want == 201 and st == 200):
                rlib.fail("%s %s: %d (want %d) %s" % (method, path, st, want, resp[:200]))
        srv.kill(sig=15)
        # vg_filter: everything in the log is a finding but valgrind's warning about mlock2 (see there)
        report = vg_filter.findings(open(vlog, errors="replace").read()) if os.path.exists(vlog) else ""
        if srv.proc.returncode != 0 or report:
            rlib.fail("valgrind: exit %s\n%s" % (srv.proc.returncode, report[:6000]))
        rlib.log("%d requests under valgrind: no memcheck error, no definite leak, exit 0" % len(calls))
        rlib.log("PASS")
    finally:
        srv.kill()
        rlib.cleanup(work)


if __name__ == "__main__":
    main()
