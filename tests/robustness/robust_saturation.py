#!/usr/bin/env python3
"""Saturation (issue 13): wrk keeps attestd (2 workers) busy with keep-alive
POST /attest/SgxEnclave (a development-platform quote) for SECONDS (60 in
the test; ATTEST_SATURATION_SECONDS=600 for the 10-minute run). Passes when:
  - no answer is a 5xx and every answer is 200 or an intended 429;
  - at least one attestation a second was answered (the run loaded it);
  - resident memory (VmRSS from /proc) sampled every 2 s does not grow by
    more than GROWTH_KIB between the end of the warm-up (the first 10 s or
    10 % of the run, whichever is longer) and the end, and stays under
    MAX_RSS_KIB.
The bound is stated here so a leak of even a few hundred bytes per request
fails: at ~300 attestations/s, 60 s is ~18,000 requests, and 8 MiB of growth
is ~450 bytes each.
"""
import os
import shutil
import subprocess
import time

import rlib

SECONDS = int(os.environ.get("ATTEST_SATURATION_SECONDS", "60"))
GROWTH_KIB = int(os.environ.get("ATTEST_SATURATION_GROWTH_KIB", str(8 * 1024)))
MAX_RSS_KIB = 128 * 1024


def main():
    if shutil.which("wrk") is None:
        rlib.skip("wrk is not installed (scripts/setup.sh installs it)")
    work = rlib.workdir("saturation")
    srv = rlib.Attestd(work, workers=2, extra=["--log-level", "error"])
    wrk = None
    try:
        srv.start()
        body = rlib.sgx_body(srv)
        st, _, resp = srv.request("POST", "/attest/SgxEnclave?" + rlib.API, body=body,
                                  headers={"Content-Type": "application/json"})
        if st != 200:
            rlib.fail("the development quote does not attest: %d %s" % (st, resp[:300]))
        lua = os.path.join(work, "post.lua")
        with open(lua, "w") as f:
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    'wrk.body = [[%s]]\n'
                    'function response(status, headers, body)\n'
                    '  if status ~= 200 then io.stderr:write("status " .. status .. "\\n") end\n'
                    'end\n' % body)
        url = "https://127.0.0.1:%d/attest/SgxEnclave?%s" % (srv.port, rlib.API)
        errf = os.path.join(work, "wrk.err")
        wrk = subprocess.Popen(["wrk", "-t1", "-c8", "-d%ds" % SECONDS, "-s", lua, url],
                               stdout=subprocess.PIPE, stderr=open(errf, "w"), text=True)
        warm = max(10, SECONDS // 10)
        t0 = time.monotonic()
        samples = []
        while wrk.poll() is None:
            samples.append((time.monotonic() - t0, srv.vmrss_kib()))
            time.sleep(2)
        out = wrk.stdout.read()
        samples.append((time.monotonic() - t0, srv.vmrss_kib()))
        if srv.proc.poll() is not None:
            rlib.fail("attestd died under load: %s" % srv.stderr_tail())
        n = 0
        for line in out.splitlines():
            if "requests in" in line:
                n = int(line.split()[0])
        statuses = {}
        for line in open(errf):
            if line.startswith("status "):
                statuses[line.split()[1]] = statuses.get(line.split()[1], 0) + 1
        after_warm = [kib for t, kib in samples if t >= warm]
        base = after_warm[0] if after_warm else samples[0][1]
        peak = max(kib for _, kib in samples)
        growth = samples[-1][1] - base
        rlib.log("%d s, %d requests (%.0f/s), non-200: %s; VmRSS %d KiB after warm-up, %d KiB at the end "
                 "(growth %d KiB, bound %d), peak %d KiB" %
                 (SECONDS, n, n / SECONDS, statuses or "none", base, samples[-1][1], growth, GROWTH_KIB, peak))
        rlib.log("VmRSS samples (s, KiB): " + " ".join("%d:%d" % (t, k) for t, k in samples[::max(1, len(samples) // 15)]))
        bad = {s: c for s, c in statuses.items() if s != "429"}
        if bad:
            rlib.fail("answers other than 200/429 under saturation: %s" % bad)
        if n < SECONDS:
            rlib.fail("only %d requests in %d s: the run did not load attestd" % (n, SECONDS))
        if growth > GROWTH_KIB:
            rlib.fail("VmRSS grew by %d KiB after warm-up (bound %d KiB)" % (growth, GROWTH_KIB))
        if peak > MAX_RSS_KIB:
            rlib.fail("VmRSS peaked at %d KiB (bound %d KiB)" % (peak, MAX_RSS_KIB))
        srv.stop()
        rlib.log("PASS")
    finally:
        if wrk and wrk.poll() is None:
            wrk.kill()
            wrk.wait()
        srv.kill()
        rlib.cleanup(work)


if __name__ == "__main__":
    main()
