"""Shared helpers of the robustness tests (issue 13): start a real attestd on
127.0.0.1 in a fresh data folder, talk HTTPS to it with the standard library,
and fail with a message. Every wait is bounded.

Environment (set by tests/robustness/CMakeLists.txt):
  ATTESTD, ATTESTCTL   the binaries of this build
  ATTEST_VECTORS       the real vectors (unused when absent)
  ATTESTD_WRAPPER      optional command attestd runs under (make valgrind)
"""
import base64
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

ATTESTD = os.environ.get("ATTESTD", "")
ATTESTCTL = os.environ.get("ATTESTCTL", "")
API = "api-version=2020-10-01"


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def skip(msg):
    # ctest SKIP_RETURN_CODE 77
    print("SKIP: " + msg, flush=True)
    sys.exit(77)


def log(msg):
    print(msg, flush=True)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def policy_jws(text):
    """The unsigned policy JWS of reference §3.8: {"alg":"none"}.{"AttestationPolicy": b64url(text)}."""
    payload = json.dumps({"AttestationPolicy": b64url(text.encode())}).encode()
    return b64url(b'{"alg":"none"}') + "." + b64url(payload) + "."


def jwt_claims(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


class Attestd:
    """One attestd process. work: its folder (data/, logs, dev platform)."""

    def __init__(self, work, data=None, workers=2, extra=None, dev_platform=True):
        self.work = work
        self.data = data or os.path.join(work, "data")
        self.workers = workers
        self.extra = extra or []
        # e.g. valgrind and its options; $ATTESTD_WRAPPER (make valgrind) for every robustness test
        self.prefix = os.environ.get("ATTESTD_WRAPPER", "").split()
        self.proc = None
        self.port = None
        self.devdir = os.path.join(work, "devplat")
        self.admin_file = os.path.join(work, "admin-credential")
        if dev_platform and not os.path.exists(os.path.join(self.devdir, "roots.pem")):
            run([ATTESTCTL, "dev", "init", "--dir", self.devdir])
        self.stderr_path = os.path.join(work, "attestd.err")
        self.stdout_path = os.path.join(work, "attestd.out")

    def argv(self):
        a = [ATTESTD, "--dev", "--data", self.data, "--listen", "127.0.0.1", "--port", "0",
             "--port-file", os.path.join(self.work, "port"), "--workers", str(self.workers),
             "--bootstrap-admin-file", self.admin_file, "--log-level", "info"]
        if os.path.exists(os.path.join(self.devdir, "roots.pem")):
            a += ["--trust-roots", os.path.join(self.devdir, "roots.pem"),
                  "--collateral-dir", os.path.join(self.devdir, "collateral")]
        return a + self.extra

    def start(self, expect_ok=True, timeout=60):
        pf = os.path.join(self.work, "port")
        if os.path.exists(pf):
            os.unlink(pf)
        self.proc = subprocess.Popen(self.prefix + self.argv(), stdout=open(self.stdout_path, "ab"),
                                     stderr=open(self.stderr_path, "ab"))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                if expect_ok:
                    fail("attestd exited with %s at start: %s" % (self.proc.returncode, self.stderr_tail()))
                return False
            if os.path.exists(pf) and open(pf).read().strip():
                self.port = int(open(pf).read().strip())
                if self.wait_ready(end):
                    return True
            time.sleep(0.1)
        fail("attestd did not start within %d s: %s" % (timeout, self.stderr_tail()))

    def wait_ready(self, end):
        while time.monotonic() < end:
            try:
                st, _, _ = self.request("GET", "/healthz", timeout=5)
                if st == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def stderr_tail(self, n=2000):
        try:
            return open(self.stderr_path, errors="replace").read()[-n:]
        except OSError:
            return ""

    def ctx(self):
        c = ssl.create_default_context(cafile=os.path.join(self.data, "tls", "dev-cert.pem"))
        return c

    def conn(self, timeout=10):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx(), timeout=timeout)

    def admin(self):
        return open(self.admin_file).read().strip()

    def request(self, method, path, body=None, headers=None, timeout=10, admin=False):
        h = dict(headers or {})
        if admin:
            h["Authorization"] = "Bearer " + self.admin()
        c = self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, dict(r.getheaders()), data
        finally:
            c.close()

    def vmrss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self):
        """SIGTERM: a clean shutdown must exit 0 with no sanitizer report
        (leaks included, in the ASan build)."""
        self.kill(signal.SIGTERM)
        err = self.stderr_tail(1 << 20)
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in err:
                i = err.find(marker)
                fail("attestd: sanitizer report: %s" % err[i:i + 1500])
        if self.proc.returncode != 0:
            fail("attestd exited %s after SIGTERM: %s" % (self.proc.returncode, self.stderr_tail()))


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    if r.returncode != 0:
        fail("%s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr[-1000:]))
    return r


def workdir(name):
    if not os.access(ATTESTD, os.X_OK) or not os.access(ATTESTCTL, os.X_OK):
        skip("ATTESTD/ATTESTCTL not built (%r, %r)" % (ATTESTD, ATTESTCTL))
    return tempfile.mkdtemp(prefix="attest-robust-%s-" % name)


def cleanup(d):
    shutil.rmtree(d, ignore_errors=True)


def sgx_body(srv):
    """A dev-platform SGX quote as the body of POST /attest/SgxEnclave."""
    q = os.path.join(srv.work, "q.bin")
    if not os.path.exists(q):
        run([ATTESTCTL, "dev", "evidence", "sgx", "--dir", srv.devdir, "-o", q])
    return json.dumps({"quote": b64url(open(q, "rb").read())})


def dev_body(srv, kind):
    """A dev-platform body: "tdx" for POST /attest/TdxVm, "snp" for POST /attest/SevSnpVm."""
    f = os.path.join(srv.work, "%s.evidence" % kind)
    if not os.path.exists(f):
        run([ATTESTCTL, "dev", "evidence", kind, "--dir", srv.devdir, "-o", f])
    ev = open(f, "rb").read()
    if kind == "snp":  # the SevSnpVm envelope (JSON) goes base64url in "report"
        return json.dumps({"report": b64url(ev.strip())})
    return json.dumps({"quote": b64url(ev)})


def sqlite_integrity(db):
    import sqlite3
    c = sqlite3.connect(db, timeout=10)  # opens as attestd would on restart (WAL recovery)
    try:
        return c.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        c.close()
