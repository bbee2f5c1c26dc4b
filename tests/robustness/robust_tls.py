#!/usr/bin/env python3
"""TLS settings follow Mozilla's "intermediate" profile (issue 13), probed
with `openssl s_client` against attestd --dev (P-256 ECDSA certificate):
  - TLS 1.2 and 1.3 are accepted; TLS 1.0 and 1.1 are refused;
  - with TLS 1.2 the ECDHE-ECDSA AEAD suites of the profile are accepted
    (AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305);
  - CBC suites (ECDHE-ECDSA-AES128-SHA, -AES256-SHA, -AES128-SHA256,
    -AES256-SHA384) are refused.
It found TLS 1.0/1.1 and SHA-1 CBC suites accepted under GnuTLS's defaults;
attestd now sets its own priority string (src/server/httpd.c).
"""
import shutil
import subprocess

import rlib

ACCEPT = [("-tls1_3", None), ("-tls1_2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
          ("-tls1_2", "ECDHE-ECDSA-AES256-GCM-SHA384"), ("-tls1_2", "ECDHE-ECDSA-CHACHA20-POLY1305")]
REFUSE = [("-tls1", None), ("-tls1_1", None), ("-tls1_2", "ECDHE-ECDSA-AES128-SHA"),
          ("-tls1_2", "ECDHE-ECDSA-AES256-SHA"), ("-tls1_2", "ECDHE-ECDSA-AES128-SHA256"),
          ("-tls1_2", "ECDHE-ECDSA-AES256-SHA384")]


def handshake(port, version, cipher):
    """The negotiated 'Protocol, Cipher' or None when the handshake failed."""
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, version]
    # @SECLEVEL=0 so that our client offers old versions and suites: the server must refuse them
    argv += ["-cipher", (cipher or "DEFAULT") + ":@SECLEVEL=0"]
    r = subprocess.run(argv, input="", capture_output=True, text=True, timeout=20)
    cipher_line = proto = None
    for line in r.stdout.splitlines():
        if line.startswith("New, ") and "(NONE)" not in line:
            cipher_line = line.split("Cipher is", 1)[-1].strip()
        if line.strip().startswith("Protocol") and ":" in line:
            proto = line.split(":", 1)[1].strip()
    return "%s %s" % (proto, cipher_line) if cipher_line else None


def main():
    if shutil.which("openssl") is None:
        rlib.skip("openssl is not installed")
    work = rlib.workdir("tls")
    srv = rlib.Attestd(work, dev_platform=False)
    try:
        srv.start()
        bad = []
        for v, c in ACCEPT:
            got = handshake(srv.port, v, c)
            rlib.log("%-8s %-32s -> %s" % (v, c or "(default)", got or "refused"))
            if got is None:
                bad.append("%s %s refused (the profile accepts it)" % (v, c or ""))
        for v, c in REFUSE:
            got = handshake(srv.port, v, c)
            rlib.log("%-8s %-32s -> %s" % (v, c or "(default)", got or "refused"))
            if got is not None:
                bad.append("%s %s accepted: %s (the profile refuses it)" % (v, c or "", got))
        srv.stop()
        if bad:
            rlib.fail("TLS is not Mozilla intermediate: " + "; ".join(bad))
        rlib.log("PASS")
    finally:
        srv.kill()
        rlib.cleanup(work)


if __name__ == "__main__":
    main()
