#!/usr/bin/env python3
"""One benchmark report for attestd (issue 13): bench/report.json and a table.

Runs every bench_* program of a Release build, the parts of one that its
full run leaves out (PART_RUNS: bench_tpm's sealed context) and the HTTPS
attestation benchmark (bench/token/wrk_attest.sh), shows each one's own
output as it runs, then reads the figures out of that human output (the benchmarks print
no machine-readable line; each parser below follows the printf of its
benchmark) and prints one table: per attestation type, in-process
verification cold and warm, policy evaluation, token signing, HTTPS
throughput and p50/p99 on 1 and 2 workers, each beside the floor measured in
the same run and the peer where one runs here (@phala/dcap-qvl for SGX and
TDX, tpm2_checkquote for TPM). Nothing is dropped silently: a benchmark
without a parser, one whose output gives no figure, a line that its parser
did not read (a changed printf, a garbled line, an error message), a
non-zero exit, and a file under bench/ that is neither run here nor listed
in NOT_RUN each become a warning, listed under the table and in
report.json's "warnings", and so is a figure of the previous report.json
that this run lacks (tests/scripts/test_bench_report.py checks the parsers
against saved outputs of every benchmark).

  scripts/bench_report.py [--build build/release] [--out bench/report.json]
                          [--outputs DIR]   # parse saved outputs, run nothing
                          [--https-seconds N] [--no-https]

The machine is shared: the load average and core count are recorded at the
start and the end of the run. It reports, it never asserts: the exit status
is 0 unless the build folder is missing.
"""
import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NUM = r"([0-9]+(?:\.[0-9]+)?)"
SNUM = r"(-?[0-9]+(?:\.[0-9]+)?)"  # a floor its benchmark could not measure is printed as -1


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def row(section, what, value, unit, floor=None, peer=None, peer_value=None, note=None, source=None, no_floor=None):
    """One figure. ratio = value / floor when both are times (lower is better)
    or floor-relative share for rates; peer_ratio = peer / value for times.
    A figure without a floor says why in no_floor; one that does not is
    reported as a warning (its floor's line went missing or was not read)."""
    r = {"section": section, "what": what, "value": value, "unit": unit}
    if floor is not None:
        r["floor"] = floor
        if value and floor:
            r["ratio_to_floor"] = round(value / floor, 3)
    elif no_floor:
        r["no_floor"] = no_floor
    if peer is not None:
        r["peer"] = peer
        r["peer_value"] = peer_value
        if peer_value and value:
            r["peer_over_ours"] = round(peer_value / value, 2)
    if note:
        r["note"] = note
    if source:
        r["source"] = source
    return r


# --- parsers: one per benchmark, each following that benchmark's printf ---------------------
#
# Each parser reads its benchmark's output through an Out, which remembers
# what became of every line: read into a row (Out.match), or known and
# deliberately not a row (Out.skip: headers, the parts of a floor shown in
# its row, derived ratios). A line the parser neither read nor skipped is
# reported as "not read", so a changed printf, a garbled line or an error
# message shows in the report instead of its figure silently vanishing.

class Out:
    """One benchmark's output, line by line, with what its parser made of each line."""

    def __init__(self, text):
        self.lines = text.splitlines()
        self.state = [None] * len(self.lines)  # None: not read; "row": read into a figure; "skip": known, no figure
        self.i = -1

    def __iter__(self):
        for self.i, line in enumerate(self.lines):
            yield line

    def match(self, pat):
        """re.match of the current line; a match marks the line read."""
        m = re.match(pat, self.lines[self.i])
        if m:
            self.state[self.i] = "row"
        return m

    def skip(self, pat):
        """Marks the current line known-but-no-figure when it matches pat (a header, a derived ratio)."""
        if self.state[self.i] is None and re.match(pat, self.lines[self.i]):
            self.state[self.i] = "skip"
            return True
        return False

    def unread(self):
        """(line number, text) of each non-blank line that its parser neither read nor skipped."""
        return [(i + 1, l.strip()) for i, l in enumerate(self.lines) if self.state[i] is None and l.strip()]


def parse_sgx(o):
    rows = []
    pat = re.compile(r"^\s*(\S+)\s+cold\s+" + NUM + r" us\s+warm\s+" + NUM + r" us\s+floor\s+" + NUM +
                     r" us\s+warm/floor\s+" + NUM + r"x(?:\s+dcap-qvl\s+" + NUM + r" us \(([^)]*)\)\s+dcap-qvl/cold\s+" +
                     NUM + r"x)?\s*$")
    for _ in o:
        if o.skip(r"(bench_sgx: median|goals: |cold and dcap-qvl: )"):
            continue
        m = o.match(pat)
        if not m:
            continue
        name, cold, warm, fl = m.group(1), float(m.group(2)), float(m.group(3)), float(m.group(4))
        peer = float(m.group(6)) if m.group(6) else None
        typ = "OpenEnclave" if name.lower().startswith("oe") else "SgxEnclave"
        sec = typ + " (" + name + ")"
        rows.append(row(sec, "verify cold", cold, "us CPU", floor=fl,
                        peer="@phala/dcap-qvl" if peer else None, peer_value=peer,
                        note=("dcap-qvl outcome: " + m.group(7)) if m.group(7) else None, source="bench_sgx"))
        rows.append(row(sec, "verify warm", warm, "us CPU", floor=fl, source="bench_sgx"))
    return rows


def parse_tdx(o):
    rows = []
    pat = (r"\s*(\S+)\s+" + NUM + r"\s+" + NUM + r"\s+" + NUM + r"\s+" + NUM +
           r"\s+(?:" + NUM + r"\s+" + NUM + r"\s+" + NUM + r"x\s+" + NUM + r"x|-\s+-\s+-\s+-)\s+" +
           NUM + r"x\s+(.*)$")
    for _ in o:
        if o.skip(r"(bench_tdx: median|cold: wall = |warm and floor: |dcap-qvl: its process|vector\s+cold\s)"):
            continue
        m = o.match(pat)
        if not m:
            continue
        name = m.group(1)
        cold_wall, cold_cpu, warm, fl = (float(m.group(i)) * 1000 for i in range(2, 6))
        peer_cpu = float(m.group(7)) * 1000 if m.group(7) else None
        sec = "TdxVm (" + name + ")"
        rows.append(row(sec, "verify cold", cold_cpu, "us CPU", floor=fl,
                        peer="@phala/dcap-qvl" if peer_cpu else None, peer_value=peer_cpu,
                        note="cold wall %.0f us; outcome ours | dcap-qvl: %s" % (cold_wall, m.group(11).strip()),
                        source="bench_tdx"))
        rows.append(row(sec, "verify warm", warm, "us CPU", floor=fl, source="bench_tdx"))
    return rows


def parse_snp(o):
    rows = []
    fl = None
    for _ in o:
        if o.skip(r"bench_snp \("):
            continue
        m = o.match(r"\s*floor: one ECDSA P-384 verify\s+" + NUM + " us")
        if m:
            fl = float(m.group(1))
            continue
        m = o.match(r"\s*(snp_verify_report \+ claims|sevsnpvm_verify \(envelope\)), (cold|warm)\s+" + NUM + " us")
        if m:
            what = ("verify " + m.group(2)) if m.group(1).startswith("snp_") else "SevSnpVm envelope, warm"
            rows.append(row("SevSnpVm (real Milan v5 report)", what, float(m.group(3)), "us CPU", floor=fl,
                            source="bench_snp"))
    return rows


def parse_tpm(o):
    rows = []
    name = None
    full = proto_warm = None
    proc = {}
    for _ in o:
        if o.skip(r"(bench_tpm: TPM quote|\s+protocol request: |\s+process level, |"
                  r"\s+sealed service context alone \([^]]*\)\s*$)"):  # "[a run failed!]" after it: not read
            continue
        m = o.match(r"\s+tpm_context_seal \((.*)\)\s+" + NUM + r" us; floor \((.*)\)\s+" + NUM + " us -> ratio")
        if m:
            rows.append(row("Tpm (sealed service context, 'TPC2')", "tpm_context_seal", float(m.group(2)), "us CPU",
                            floor=float(m.group(4)), note="%s; floor: %s" % (m.group(1), m.group(3)), source="bench_tpm"))
            continue
        m = o.match(r"\s+tpm_context_open, this node's epoch\s+" + NUM + r" us; another node's epoch \(kept\)\s+" + NUM +
                    r" us; floor \((.*)\)\s+" + NUM + " us -> ratio")
        if m:
            for what, v in (("tpm_context_open, this node's epoch", m.group(1)),
                            ("tpm_context_open, another node's epoch (its key kept)", m.group(2))):
                rows.append(row("Tpm (sealed service context, 'TPC2')", what, float(v), "us CPU",
                                floor=float(m.group(4)), note="floor: " + m.group(3), source="bench_tpm"))
            continue
        m = o.match(r"\s+tpm_context_open, an epoch nobody has \((.*)\)\s+" + NUM + r" us\s*$")
        if m:
            rows.append(row("Tpm (sealed service context, 'TPC2')", "tpm_context_open, an epoch nobody has (refused)",
                            float(m.group(2)), "us CPU", note=m.group(1), source="bench_tpm",
                            no_floor="a refusal; bench_tpm prints no floor for it (one HKDF + one failed GCM open)"))
            continue
        m = o.match(r"\s+(\S.*?) \((\d+) events.*runs, (?:median )?CPU time\)")
        if m:
            name = m.group(1)
            continue
        m = o.match(r"\s+full verification\s+" + NUM + " us/quote")
        if m:
            full = float(m.group(1))
            continue
        m = o.match(r"\s+floor \(RSA-2048 verify \+ the log's hashing\)\s+" + NUM + " us")
        if m and full is not None:
            rows.append(row("TpmQuote (" + (name or "?") + ")", "verify warm", full, "us CPU",
                            floor=float(m.group(1)), note="no cache needed: cold = warm", source="bench_tpm"))
            full = None
            continue
        m = o.match(r"\s+tpm_proto_request(?:, returning client[^0-9]*)?\s+" + NUM + " us/request")
        if m:
            full = float(m.group(1))
            continue
        m = o.match(r"\s+floor \(2x RSA-2048.*\)\s+" + NUM + " us")
        if m and full is not None:
            rows.append(row("Tpm (protocol request, 60-event log)", "verify warm", full, "us CPU",
                            floor=float(m.group(1)), note="returning client: AIK chain and keys cached; policy not reading the log (default)",
                            source="bench_tpm"))
            proto_warm, full = full, None
            continue
        m = o.match(r"\s+lower bound \(.*\)\s+" + NUM + " us")
        if m and proto_warm is not None:
            rows.append(row("Tpm (protocol request, 60-event log)", "verify warm, against a lower bound", proto_warm,
                            "us CPU", floor=float(m.group(1)),
                            note="the same cryptography with each key's OpenSSL contexts and the cipher's key set up once, as the service keeps them",
                            source="bench_tpm"))
            proto_warm = None
            continue
        m = o.match(r"\s+tpm_proto_request, first contact \(no cache\)\s+" + NUM + r" us; floor .*?\s+" + NUM + " us")
        if m:
            rows.append(row("Tpm (protocol request, 60-event log)", "verify cold", float(m.group(1)), "us CPU",
                            floor=float(m.group(2)), note="first contact: floor includes the AIK certificate's ECDSA",
                            source="bench_tpm"))
            continue
        m = o.match(r"\s+tpm_proto_request, returning client, events texts written.*?\s+" + NUM + r" us; floor\s+" +
                    NUM + " us")
        if m:
            rows.append(row("Tpm (protocol request, 60-event log)", "verify warm, policy reads events",
                            float(m.group(1)), "us CPU", floor=float(m.group(2)),
                            note="returning client; the events claim texts written (21 kB for the 60-event log)", source="bench_tpm"))
            continue
        m = o.match(r"\s+(/bin/true \(exec floor\)|bench_tpm_verify: signature \+ PCR digest|"
                    r"bench_tpm_verify: \+ log replay \+ boot claims|tpm2_checkquote -f \(signature \+ PCR digest\))"
                    r"\s+" + NUM + r"\s*/\s*" + NUM + r"\s*ms")
        if m:
            proc[m.group(1).split(":")[0].split(" ")[0] + ("+log" if "log replay" in m.group(1) else "")] = (
                float(m.group(2)), float(m.group(3)))
    if "bench_tpm_verify" in proc:
        ours = proc["bench_tpm_verify"]
        peer = proc.get("tpm2_checkquote")
        exe = proc.get("/bin/true")
        rows.append(row("TpmQuote (real GCP quote, process level)", "verifier process, signature + PCR digest",
                        ours[0] * 1000, "us wall", floor=exe[0] * 1000 if exe else None,
                        peer="tpm2_checkquote" if peer else None, peer_value=peer[0] * 1000 if peer else None,
                        note="floor = fork+exec of /bin/true; child CPU ours %.2f ms%s" %
                        (ours[1], (", tpm2_checkquote %.2f ms" % peer[1]) if peer else ""), source="bench_tpm"))
    if "bench_tpm_verify+log" in proc:
        rows.append(row("TpmQuote (real GCP quote, process level)", "verifier process, + log replay + claims",
                        proc["bench_tpm_verify+log"][0] * 1000, "us wall",
                        floor=proc["/bin/true"][0] * 1000 if "/bin/true" in proc else None, source="bench_tpm"))
    return rows


def parse_token_sign(o):
    rows = []
    vals = {}
    for _ in o:
        if o.skip(r"(token signing, RS256|\d+ rounds x \d+ signatures|floor again \(noise control\)|goal \(issue 2\)|"
                  r"method\s+us/token|\(overhead: median)"):
            continue
        m = o.match(r"(floor: RSA-2048 sign of a SHA-256|OpenSSL DigestSign of the bytes|jws_sign \(payload bytes\)|"
                    r"jwt_sign \(json_t claims\)|keyring_sign_jwt \(attestd path\))\s+" + NUM + r"\s+" + NUM)
        if m:
            vals[m.group(1)] = float(m.group(2))
    fl = vals.get("floor: RSA-2048 sign of a SHA-256")
    for k in ("OpenSSL DigestSign of the bytes", "jws_sign (payload bytes)", "jwt_sign (json_t claims)",
              "keyring_sign_jwt (attestd path)"):
        if k in vals:
            rows.append(row("token signing (RS256, RSA-2048)", k, vals[k], "us CPU", floor=fl,
                            source="bench_token_sign"))
    return rows


def parse_policy(o):
    rows = []
    rsa = ec = None
    evals, compiles = [], []
    hit = None
    for _ in o:
        if o.skip(r"(policy engine benchmark|evaluation on a \d+-claim|goal: |parse \+ compile\s+bytes|"
                  r"cryptographic floor \(OpenSSL)"):
            continue
        m = o.match(r"\s+(default SGX policy \(8 rules\)|30-rule policy|default SGX policy, explain on|"
                    r"30-rule policy, explain on)\s+" + NUM + r" us\s+" + NUM + r"\s+" + NUM + " %")
        if m:
            evals.append((m.group(1), float(m.group(2)), float(m.group(4))))
            continue
        m = o.match(r"\s+(\S.*?\S)\s+(\d+)\s+(\d+)\s+" + NUM + r" us\s*$")
        if m:
            compiles.append((m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4))))
            continue
        m = o.match(r"\s+cache hit \(hash of the text \+ lookup\)\s+" + NUM + r" us")
        if m:
            hit = float(m.group(1))
            continue
        m = o.match(r"\s+RSA-2048 sign \(token signature\)\s+" + NUM + " us")
        if m:
            rsa = float(m.group(1))
        m = o.match(r"\s+ECDSA P-256 verify \(one quote signature\)\s+" + NUM + " us")
        if m:
            ec = float(m.group(1))
    fl = (rsa + ec) if rsa and ec else None
    for name, us, share in evals:
        rows.append(row("policy evaluation (25-claim SGX set)", name, us, "us CPU", floor=fl,
                        note="%.3f %% of (RSA-2048 sign + ECDSA P-256 verify); goal < 1 %%" % share,
                        source="bench_policy"))
    for name, size, rules, us in compiles:
        rows.append(row("policy parse + compile (once per policy text)", name, us, "us CPU", floor=fl,
                        note="%d bytes, %d rules; compiled once, then served from the cache" % (size, rules),
                        source="bench_policy"))
    if hit is not None:
        rows.append(row("policy parse + compile (once per policy text)", "cache hit (hash of the text + lookup)", hit,
                        "us CPU", floor=fl, source="bench_policy"))
    return rows


def parse_attest(o):
    rows = []
    v = {}
    for _ in o:
        # the floor's parts and the pipeline's first print are shown in the rows below; the ratios are derived
        if o.skip(r"(SGX attestation in process|\s+2 x ECDSA P-256 verify|\s+RSA-2048 sign \(SHA-256 digest\)|"
                  r"\s+sgx_verify \(warm caches\)|\s+pipeline_attest_run|\s+pipeline / )"):
            continue
        m = o.match(r"\s+(crypto floor \(2 ECDSA \+ 1 RSA\)|attestation floor \(verify \+ RSA\)|pipeline|"
                    r"stage: request decode|stage: default policy \(cached plan\)|stage: token claims \+ JSON)"
                    r"\s+" + NUM + " us/op")
        if m:
            v[m.group(1)] = float(m.group(2))
    if "pipeline" in v:
        rows.append(row("SgxEnclave attestation in process (whole request, warm)", "pipeline_attest_run",
                        v["pipeline"], "us CPU", floor=v.get("crypto floor (2 ECDSA + 1 RSA)"),
                        note="attestation floor (sgx_verify warm + RSA sign) %s us" %
                        v.get("attestation floor (verify + RSA)"), source="bench_attest"))
    for k in ("stage: request decode", "stage: default policy (cached plan)", "stage: token claims + JSON"):
        if k in v:
            rows.append(row("SgxEnclave attestation in process (whole request, warm)", k, v[k], "us CPU",
                            floor=v.get("crypto floor (2 ECDSA + 1 RSA)"), source="bench_attest"))
    return rows


def parse_https_certs(o):
    rows = []
    fl = None
    for _ in o:
        if o.skip(r"GET /certs, HTTPS keep-alive"):
            continue
        m = o.match(r"\s+floor, one core .*: " + NUM + " /s")
        if m:
            fl = float(m.group(1))
        m = o.match(r"\s+attestd, (\d) workers?\s*: " + NUM + r" requests/s .*latency (.*)$")
        if m:
            w = int(m.group(1))
            rows.append(row("HTTPS GET /certs", "%d worker%s" % (w, "s" if w > 1 else ""), float(m.group(2)),
                            "req/s", floor=fl * w if fl else None, note="latency " + m.group(3).strip(),
                            source="bench_https"))
    return rows


def parse_wrk_attest(o):
    rows = []
    workers = None
    for _ in o:
        m = o.match(r"== HTTPS, (\d) worker")
        if m:
            workers = int(m.group(1))
            cur = {}
            continue
        if workers is None:  # bench_attest's own output (its figures come from its own run) and the warm-up
            o.skip(r"(\s|== in-process floor)")
            continue
        if o.skip(r"\s+warm-up: HTTP 200\s*$"):
            continue
        sec = "HTTPS POST /attest/SgxEnclave (%d worker%s)" % (workers, "s" if workers > 1 else "")
        m = o.match(r"\s+max throughput: " + NUM + r" attestations/s \(p50 " + NUM + r" ms, p99 " + NUM)
        if m:
            cur.update(rate=float(m.group(1)), p50=float(m.group(2)), p99=float(m.group(3)))
        m = o.match(r"\s+in-process attestation floor x \d core\(s\): " + NUM + "/s")
        if m:
            cur["floor"] = float(m.group(1))
        m = o.match(r"\s+server CPU per attestation: " + NUM + r" us -> capacity " + NUM)
        if m:
            cur.update(cpu=float(m.group(1)), cap=float(m.group(2)))
            rows.append(row(sec, "max throughput (wall)", cur.get("rate"), "attestations/s", floor=cur.get("floor"),
                            note="p50 %s ms, p99 %s ms at max; floor = in-process (verify warm + RSA sign) x workers"
                            % (cur.get("p50"), cur.get("p99")), source="wrk_attest.sh"))
            rows.append(row(sec, "capacity from server CPU/attestation", cur["cap"], "attestations/s",
                            floor=cur.get("floor"), note="%.0f us server CPU per attestation" % cur["cpu"],
                            source="wrk_attest.sh"))
        m = o.match(r"\s+crypto floor \(2 ECDSA \+ 1 RSA, " + NUM + r" us\) / server CPU per attestation = " + NUM +
                    r"% per core")
        if m:
            rows.append(row(sec, "(2-signature floor + token signature) / server CPU per attestation",
                            float(m.group(2)), "% per core",
                            note="crypto floor %s us per attestation (2 ECDSA + 1 RSA); goal >= 70%%" % m.group(1),
                            no_floor="the figure is itself the floor's share", source="wrk_attest.sh"))
        m = o.match(r"\s+at ~(\d+)% \((\d+)/s offered.*achieved " + NUM + r"/s, p50 " + NUM + r" ms, p99 " + NUM)
        if m:
            rows.append(row(sec, "latency at ~%s%% of max (p50 / p99 ms)" % m.group(1), float(m.group(4)), "ms p50",
                            note="p99 %s ms; achieved %s/s" % (m.group(5), m.group(3)), source="wrk_attest.sh",
                            no_floor="a latency at a chosen load; the max throughput row has the floor"))
    return rows


# Trusted Launch with a registered AIK, and with an AikCert to a vTPM root (Azure's own case).
TL_SECTIONS = {"TrustedLaunch (reg.)": " TrustedLaunch", "TrustedLaunch (cert.)": " TrustedLaunch, AIK certified"}


def parse_azure_guest(o):
    """bench_azure_guest: AzureGuest verification (SevSnp cold and warm, Trusted Launch) beside its floors."""
    rows, floors = [], {}
    tl = {}  # "(reg.)" / "(cert.)": the Trusted Launch figure its lower bound line goes with
    sec = "AzureGuest (synthetic CVM, 60-event log)"
    for _ in o:
        if o.skip(r"bench_azure_guest \("):
            continue
        m = o.match(r"\s+floor (cold|warm|TrustedLaunch|seal):.*?\s" + NUM + r" us\s*$")
        if m:
            floors[m.group(1)] = float(m.group(2))
            continue
        m = o.match(r"\s+azure_guest_verify (SevSnp, cold|SevSnp, warm chain|TrustedLaunch \((?:reg|cert)\.\))\s+" +
                    NUM + " us")
        if m:
            kind = {"SevSnp, cold": "cold", "SevSnp, warm chain": "warm", "TrustedLaunch (reg.)": "TrustedLaunch",
                    "TrustedLaunch (cert.)": "TrustedLaunch"}[m.group(1)]
            what = {"cold": "verify cold (SevSnp)", "warm": "verify warm", "TrustedLaunch": "verify warm"}[kind]
            section = sec + (TL_SECTIONS[m.group(1)] if kind == "TrustedLaunch" else " SevSnp")
            rows.append(row(section, what, float(m.group(2)), "us CPU", floor=floors.get(kind),
                            note="a returning VM: chain and keys kept" if kind != "cold" else "nothing cached",
                            source="bench_azure_guest"))
            if kind == "TrustedLaunch":
                tl[m.group(1)[len("TrustedLaunch "):]] = float(m.group(2))
            continue
        m = o.match(r"\s+lower bound TrustedLaunch( \(cert\.\))?:.*?\s" + NUM + " us")
        which = "(cert.)" if m and m.group(1) else "(reg.)"
        if m and which in tl:
            rows.append(row(sec + TL_SECTIONS["TrustedLaunch " + which], "verify warm, against a lower bound",
                            tl[which], "us CPU", floor=float(m.group(2)),
                            note="the AIK's verification contexts set up once, as attestd keeps them",
                            source="bench_azure_guest"))
            continue
        m = o.match(r"\s+seal \((.*)\)\s+" + NUM + " us")
        if m:
            rows.append(row(sec + " answer seal", "seal (%s)" % m.group(1), float(m.group(2)), "us CPU",
                            floor=floors.get("seal"),
                            note="floor: a fresh key and IV, RSA-OAEP-2048 encrypt and AES-256-GCM of the same bytes",
                            source="bench_azure_guest"))
    return rows


def floor_value(text):
    """A floor as printed; None when the benchmark could not measure it (its helpers print -1)."""
    v = float(text)
    return v if v > 0 else None


def parse_cached_table(o):
    """bench_cached_table: the caching collateral source's table when full, beside one ECDSA P-256 check."""
    rows, v = [], {}
    fl = held = bound = None
    clock = "wall"
    for _ in o:
        m = o.match(r"bench_cached_table \((\d+) entries")
        if m:
            bound = int(m.group(1))
            clock = "CPU" if "CPU time" in m.string else "wall"
            continue
        m = o.match(r"\s+floor: ECDSA P-256 signature check\s+" + SNUM + r" ns\s*$")
        if m:
            fl = floor_value(m.group(1))
            continue
        m = o.match(r"\s+(hit on a full table|miss on a full table|refresh pass, nothing due) \(([^)]*)\)\s+" + NUM +
                    r" (ns|us)\s*$")
        if m:
            v[m.group(1)] = (m.group(2), float(m.group(3)), m.group(4))
            continue
        m = o.match(r"\s+entries held: (\d+)\s*$")
        if m:
            held = int(m.group(1))
    sec = "collateral cache table (%s entries, full; in-memory upstream)" % bound
    for k in ("hit on a full table", "miss on a full table", "refresh pass, nothing due"):
        if k not in v:
            continue
        how, val, unit = v[k]
        note = None
        if k.startswith("hit"):
            note = "floor: one ECDSA P-256 check, the least a hit saves (with the upstream request); entries held %s" % held
        rows.append(row(sec, "%s (%s)" % (k, how), val, unit + " " + clock,
                        floor=(fl / 1000 if unit == "us" else fl) if fl else None, note=note,
                        source="bench_cached_table"))
    return rows


def parse_policy_views(o):
    """bench_policy_views: attestd's policy views when full, beside one ECDSA P-256 check."""
    rows = []
    fl = None
    sec = "policy views (server, full table)"
    figs = []
    clock = "wall"
    for _ in o:
        m = o.match(r"bench_policy_views \((\d+) views, full; (\d+)-byte policy")
        if m:
            sec = "policy views (%s, full; %s-byte policy)" % (m.group(1), m.group(2))
            clock = "CPU" if "CPU time" in m.string else "wall"
            continue
        m = o.match(r"\s+floor: ECDSA P-256 signature check\s+" + SNUM + r" ns\s*$")
        if m:
            fl = floor_value(m.group(1))
            continue
        m = o.match(r"\s+\(a long name's key, its SHA-256, once a request\s+" + NUM + r" ns\)\s*$")
        if m:
            figs.append(("long name's key (its SHA-256), once a request", float(m.group(1)),
                         "shared with the trust views' lookup, which needed it before"))
            continue
        m = o.match(r"\s+(hit on a full table, name (?:< 31|of 31-63) characters|"
                    r"store of a new view into a full table)\s+" + NUM + r" ns\s*$")
        if m:
            figs.append((m.group(1), float(m.group(2)),
                         "the view found fresh and its text copied out: every attestation does it" if "hit" in m.group(1)
                         else "the oldest view goes"))
    for what, val, note in figs:
        rows.append(row(sec, what, val, "ns " + clock, floor=fl, note=note, source="bench_policy_views"))
    return rows


def parse_tcb_early(o):
    """bench_tcb_early: warm SGX verification with early TCB sets and baselines, each beside the floor
    timed call by call with it and printed on the line before it."""
    figs, fl = [], None
    for _ in o:
        if o.skip(r"bench_tcb_early \("):
            continue
        m = o.match(r"(warm, no early set|warm, early set demoting|warm, early \+ baseline \d+ by number)\s+" + NUM +
                    r" us\s+\(" + NUM + r"x floor, (\d+) claims\)\s*$")
        if m:
            figs.append((m.group(1)[len("warm, "):], float(m.group(2)), int(m.group(4)), fl))
            fl = None
            continue
        m = o.match(r"floor \(2 ECDSA P-256 verify\)\s+" + SNUM + r" us\s*$")
        if m:
            fl = floor_value(m.group(1))
    return [row("SgxEnclave, early TCB and baselines (synthetic platform)", "verify warm (%s)" % what, val, "us CPU",
                floor=floor, note="%d claims" % claims, source="bench_tcb_early") for what, val, claims, floor in figs]


def parse_tcg_text(o):
    """bench_tcg_text: the TPM events and pcrs claim texts, each beside the floors printed under it
    (memcpy and hex of the same bytes); a text whose floor lines are missing still gives its row."""
    rows = []
    sec = "TPM claim texts (tcg_claims.c)"
    last = None  # [section, what, value, rows made]: the text the next "floor:" lines are for
    ev_memcpy = naive = hex_row = None

    def close():  # a text no floor line followed: its row without a floor (a warning)
        if last is not None and not last[3]:
            rows.append(row(last[0], last[1], last[2], "us CPU", source="bench_tcg_text"))

    for _ in o:
        m = o.match(r"bench_tcg_text: claim texts of the synthetic (\d+)-event log")
        if m:
            sec = "TPM claim texts, synthetic %s-event log" % m.group(1)
            continue
        if o.skip(r"\s+real Windows log: .*skipped\s*$"):
            continue
        m = (o.match(r"\s+(events) text \(verified events, (\d+) bytes\)\s+" + NUM + r" us\s*$") or
             o.match(r"\s+(pcrs) text \((\d+) bytes\)\s+" + NUM + r" us\s*$"))
        if m:
            close()
            last = [sec, "%s text (%s B)" % (m.group(1), m.group(2)), float(m.group(3)), 0]
            continue
        m = o.match(r"\s+real Windows log \((.*?)\), events text \((\d+) bytes\)\s+" + NUM + r" us\s*$")
        if m:
            close()
            last = ["TPM claim texts, real Windows log (%s)" % m.group(1), "events text (%s B)" % m.group(2),
                    float(m.group(3)), 0]
            continue
        m = o.match(r"\s+floor: (memcpy of \d+ bytes into a new allocation|hex of the \d+ bytes it shows as hex)\s+" +
                    NUM + r" us -> ratio")
        if m and last is not None:
            fl, memcpy = float(m.group(2)), m.group(1).startswith("memcpy")
            rows.append(row(last[0], last[1] + (" vs memcpy of its bytes" if memcpy else " vs hex of what it shows as hex"),
                            last[2], "us CPU", floor=fl, note="floor: " + m.group(1), source="bench_tcg_text"))
            last[3] += 1
            if memcpy and last[1].startswith("events") and last[0] == sec:
                ev_memcpy = fl
            if not memcpy:
                hex_row = rows[-1]
            continue
        m = o.match(r"\s+\(the same hex a byte at a time from a digit table: " + NUM + r" us\)\s*$")
        if m:
            naive = float(m.group(1))
            continue
        m = o.match(r"\s+the caller's copy into a claim \((.*)\)\s+" + NUM + r" us\s*$")
        if m:
            close()
            last = None
            rows.append(row(sec, "caller's copy of the events text into a claim", float(m.group(2)), "us CPU",
                            floor=ev_memcpy, note="%s; floor: the memcpy of the same events text's bytes, same run" %
                            m.group(1), source="bench_tcg_text"))
    close()
    if naive is not None and hex_row is not None:
        hex_row["note"] += "; the same hex a byte at a time from a digit table: %.2f us" % naive
    return rows


def parse_collateral(o):
    """bench_collateral: TCB Info lookups and SGX attestation with collateral cold (HTTPS replay of the PCS)
    and warm, each beside its floor (one TCB Info check; the quote's two checks; those and each of the
    collateral's signatures); upstream requests per 10,000 lookups."""
    rows, figs, floors = [], [], {}
    sec = "collateral (SGX TCB Info, local HTTPS replay server)"
    for _ in o:
        m = o.match(r"bench_collateral \((\S+), local HTTPS replay server")
        if m:
            sec = "collateral (%s, local HTTPS replay server)" % m.group(1)
            continue
        m = o.match(r"\s+floor (lookup|warm|cold): (.*?)\s+" + SNUM + r" us\s*$")
        if m:
            floors[m.group(1)] = (floor_value(m.group(3)), m.group(2))
            continue
        m = o.match(r"\s+(TCB Info lookup, (?:cold|warm)[^(]*)\((?:([^;)]*); )?(wall|CPU)\)\s+" + NUM + r" us\s*$")
        if m:
            what = m.group(1).strip() + (" (%s)" % m.group(2) if m.group(2) else "")
            figs.append((what, "lookup", float(m.group(4)), m.group(3), None))
            continue
        m = o.match(r"\s+(SGX attestation, collateral (cold|warm)) \((?:(\d+) fetches; )?(wall|CPU)\)\s+" + NUM +
                    r" us(?:\s+\(\s*" + NUM + r"x floor (?:cold|warm)\))?\s*$")
        if m:
            figs.append((m.group(1), m.group(2), float(m.group(5)), m.group(4), m.group(3)))
            continue
        m = o.match(r"\s+(\d+) lookups, (\d+) distinct FMSPCs, (\d+) thread\(s\): (\d+) upstream requests, (\d+) "
                    r"failures, " + NUM + r" ms\s*$")
        if m:
            rows.append(row(sec, "upstream requests: %s lookups, %s keys, %s thread%s" %
                            (m.group(1), m.group(2), m.group(3), "s" if m.group(3) != "1" else ""),
                            int(m.group(4)), "requests", floor=int(m.group(2)),
                            note="floor: one request per distinct key (FMSPC), the least a cache can do; "
                                 "%s failures; %s ms wall" % (m.group(5), m.group(6)), source="bench_collateral"))
    out = []
    for what, kind, us, clock, fetches in figs:
        fl, how = floors.get(kind, (None, None))
        if how and how.startswith("+ ") and "warm" in floors:  # the cold floor is the warm one's and more
            how = floors["warm"][1] + " " + how
        note = "floor: %s" % how if how else None
        if fetches:
            note = "%s collateral fetches over HTTPS on top of the floor's signatures; %s" % (fetches, note)
        if clock == "wall" and fl:
            note += " (floor in CPU time)"
        out.append(row(sec, what, us, "us " + clock, floor=fl, note=note, source="bench_collateral"))
    return out + rows


def parse_tpm_verify(o):
    """bench_tpm_verify is bench_tpm's verifier process: one line saying it verified."""
    for _ in o:
        o.match(r"bench_tpm_verify: .*: verified\s*$")
    return []


PARSERS = {
    "bench_sgx": parse_sgx, "bench_tdx": parse_tdx, "bench_snp": parse_snp, "bench_tpm": parse_tpm,
    "bench_token_sign": parse_token_sign, "bench_policy": parse_policy, "bench_attest": parse_attest,
    "bench_https": parse_https_certs, "wrk_attest.sh": parse_wrk_attest,
    "bench_azure_guest": parse_azure_guest, "bench_cached_table": parse_cached_table,
    "bench_policy_views": parse_policy_views, "bench_tcb_early": parse_tcb_early, "bench_tcg_text": parse_tcg_text,
    "bench_collateral": parse_collateral,
}
# Parts of a benchmark that its full run leaves out, run again on their own: name -> (program, environment).
PART_RUNS = {"bench_tpm_context": ("bench_tpm", {"BENCH_TPM_ONLY": "context"})}
PARSERS["bench_tpm_context"] = parse_tpm
# Programs that are helpers of another benchmark, not benchmarks with figures of their own.
HELPERS = {"bench_tpm_verify": parse_tpm_verify}
# Files under bench/ that this report does not run, and why (the rest of bench/ is a bench_*.c
# program with a parser or helper above, wrk_attest.sh, or a support file: *.h, *.cmake, README.md).
NOT_RUN = {
    "bench/ha/cluster_throughput.sh": "issue 11's cluster figure (1-3 nodes on one PostgreSQL behind haproxy); "
                                      "needs tests/ha/with_pg.sh's server and prints no floor: run it by hand",
    "bench/evidence/bench_sgx_dcapqvl.mjs": "the @phala/dcap-qvl peer's driver: bench_sgx runs it",
    "bench/evidence/bench_tdx_dcapqvl.mjs": "the @phala/dcap-qvl peer's driver: bench_tdx runs it",
    "bench/report.json": "this report's output",
}
RUN_SCRIPTS = ("bench/token/wrk_attest.sh",)
SUPPORT = re.compile(r"(.*\.h|.*\.cmake|(.*/)?README\.md)$")


def bench_inventory(root=ROOT):
    """Files under bench/ that are neither in this report nor listed as out of it (one warning each)."""
    out = []
    for d, _, files in os.walk(os.path.join(root, "bench")):
        for fn in files:
            rel = os.path.relpath(os.path.join(d, fn), root)
            if rel in NOT_RUN or rel in RUN_SCRIPTS or SUPPORT.match(rel):
                continue
            name = fn[:-2] if fn.endswith(".c") else None
            if name and name.startswith("bench_") and (name in PARSERS or name in HELPERS):
                continue
            out.append("%s: not in this report (no parser in scripts/bench_report.py) and not listed as left out"
                       % rel)
    return sorted(out)


def parse_output(name, text, rc=None):
    """Rows of one benchmark's output, its status, and a warning for each thing a reader must see:
    no parser, nothing parsed, a line that its parser did not read, a non-zero exit."""
    warnings = []
    parser = PARSERS.get(name) or HELPERS.get(name)
    if parser is None:
        return [], "no parser for this benchmark", ["%s: no parser: its figures are not in this report" % name]
    o = Out(text)
    try:
        rows = parser(o)
    except Exception as e:  # a changed output format must not lose the rest of the report
        return [], "parser failed (%s: %s)" % (type(e).__name__, e), [
            "%s: parser failed (%s: %s): output format changed?" % (name, type(e).__name__, e)]
    for r in rows:  # the run it came from (bench_tpm_context's rows are bench_tpm's parser's)
        r["source"] = name
    if rc not in (None, 0):
        warnings.append("%s: exit status %s" % (name, rc))
    for n, line in o.unread():
        warnings.append("%s: line %d not read: %s" % (name, n, line[:160]))
    for r in rows:
        if r["value"] is None:
            warnings.append("%s: %s / %s: no value (its line missing or not read)" % (name, r["section"], r["what"]))
        if "floor" not in r and "no_floor" not in r:
            warnings.append("%s: %s / %s: no floor (its line missing, not read, or not measured)" %
                            (name, r["section"], r["what"]))
    if name in HELPERS:
        status = "helper of another benchmark (no figures of its own)"
        if "row" not in o.state:
            warnings.append("%s: helper did not say it verified: %s" %
                            (name, (text.strip().splitlines() or ["no output"])[-1][:160]))
    elif rows:
        status = "ok: %d figures" % len(rows)
    else:
        status = "no figures parsed (exit %s): %s" % (rc, (text.strip().splitlines() or ["no output"])[-1][:160])
        warnings.append("%s: no figures parsed from its output" % name)
    unread = sum(1 for w in warnings if " not read: " in w)
    if unread:
        status += "; %d line%s not read" % (unread, "s" if unread > 1 else "")
    return rows, status, warnings


ORDER = ("SgxEnclave (", "OpenEnclave", "SgxEnclave, early TCB", "TdxVm", "SevSnpVm", "AzureGuest", "TpmQuote",
         "Tpm (", "TPM claim texts", "collateral", "policy evaluation", "policy parse", "policy views", "token",
         "SgxEnclave attestation", "HTTPS POST", "HTTPS GET")


def section_rank(r):
    for i, p in enumerate(ORDER):
        if r["section"].startswith(p):
            return i
    return len(ORDER)


def stop_group(p, sig):
    """Sends sig to the benchmark's process group (wrk_attest.sh's attestd and wrk with it)."""
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_one(name, argv, env, timeout, outdir):
    """Runs one benchmark in its own process group, echoing its output; a watchdog stops the group
    after timeout seconds whether or not it prints (SIGTERM, SIGKILL 5 s later), and so does an
    interrupted report."""
    print("== %s" % name, flush=True)
    t0 = time.monotonic()
    lines, fired = [], threading.Event()
    try:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                             cwd=ROOT, errors="replace", start_new_session=True)
    except OSError as e:
        lines, rc = ["(could not run: %s)\n" % e], -1
    else:
        def expire():
            fired.set()
            stop_group(p, signal.SIGTERM)
            if not kill.wait(5):
                stop_group(p, signal.SIGKILL)

        kill = threading.Event()  # set once the benchmark is over: the watchdog sends no SIGKILL then
        watchdog = threading.Timer(timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            for line in p.stdout:
                sys.stdout.write("   " + line)
                sys.stdout.flush()
                lines.append(line)
            rc = p.wait()
        finally:
            watchdog.cancel()
            if p.poll() is None:  # interrupted (Ctrl-C): its group goes with the report
                stop_group(p, signal.SIGKILL)
                p.wait()
            kill.set()
            stop_group(p, signal.SIGKILL)  # what it left running in its group
            p.stdout.close()
        if fired.is_set():
            lines.append("(killed: over %d s)\n" % timeout)
    text = "".join(lines)
    with open(os.path.join(outdir, name + ".out"), "w") as f:
        f.write(text)
    return text, rc, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "report.json"))
    ap.add_argument("--outputs", help="parse the saved <bench>.out files of this folder; run nothing")
    ap.add_argument("--https-seconds", type=int, default=int(os.environ.get("ATTEST_BENCH_HTTPS_SECONDS", "6")))
    ap.add_argument("--no-https", action="store_true", help="skip bench/token/wrk_attest.sh")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per benchmark before it is killed")
    a = ap.parse_args()

    build = os.path.abspath(a.build)
    env = dict(os.environ)
    env.setdefault("ATTEST_VECTORS", os.path.abspath(os.path.join(ROOT, "..", "shared", "vectors")))
    meta = {"date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": git_commit(), "build": build, "nproc": os.cpu_count(), "cpu": cpu_model(),
            "loadavg_start": loadavg()}
    results = {}
    if a.outputs:
        saved = os.path.join(a.outputs, "meta.json")
        if os.path.exists(saved):  # the machine's state when the outputs were made
            with open(saved) as f:
                meta.update(json.load(f))
            meta["parsed_from"] = os.path.abspath(a.outputs)
        for fn in sorted(os.listdir(a.outputs)):
            if fn.endswith(".out"):
                with open(os.path.join(a.outputs, fn), errors="replace") as f:
                    results[fn[:-4]] = {"text": f.read(), "rc": None, "seconds": None}
    else:
        bdir = os.path.join(build, "bench")
        if not os.path.isdir(bdir):
            print("bench_report: %s does not exist (build the Release tree: make build-release)" % bdir)
            return 1
        outdir = os.path.join(build, "bench-out")
        os.makedirs(outdir, exist_ok=True)
        progs = sorted(f for f in os.listdir(bdir) if f.startswith("bench_") and os.access(os.path.join(bdir, f), os.X_OK))
        for prog in progs:
            text, rc, secs = run_one(prog, [os.path.join(bdir, prog)], env, a.timeout, outdir)
            results[prog] = {"text": text, "rc": rc, "seconds": round(secs, 1)}
        for name, (prog, extra) in sorted(PART_RUNS.items()):
            if prog in progs:
                text, rc, secs = run_one(name, [os.path.join(bdir, prog)], dict(env, **extra), a.timeout, outdir)
                results[name] = {"text": text, "rc": rc, "seconds": round(secs, 1)}
        wrk = os.path.join(ROOT, "bench", "token", "wrk_attest.sh")
        if not a.no_https and os.path.exists(wrk):
            text, rc, secs = run_one("wrk_attest.sh", ["bash", wrk, build, str(a.https_seconds)], env, a.timeout,
                                     outdir)
            results["wrk_attest.sh"] = {"text": text, "rc": rc, "seconds": round(secs, 1)}
    if not a.outputs:
        meta["loadavg_end"] = loadavg()
        with open(os.path.join(build, "bench-out", "meta.json"), "w") as f:
            json.dump(meta, f)

    previous = None
    try:
        with open(a.out) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        pass
    report = build_report(results, meta, previous=previous,
                          skipped={"wrk_attest.sh": "--no-https"} if a.no_https and not a.outputs else None)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print_table(report)
    print("\nreport written to %s" % os.path.relpath(a.out))
    return 0


def missing_since(previous, rows, results):
    """A warning for each figure of the previous report (any JSON; an older or hand-edited one is read
    as far as it has the shape this script writes) that a benchmark run again no longer gave."""
    if not isinstance(previous, dict) or not isinstance(previous.get("figures"), list):
        return []
    meta = previous.get("meta") if isinstance(previous.get("meta"), dict) else {}
    now = {(r["section"], r["what"]) for r in rows}
    out = []
    for r in previous["figures"]:
        if not isinstance(r, dict) or not all(isinstance(r.get(k), str) for k in ("section", "what", "source")):
            continue
        if (r["section"], r["what"]) not in now and r["source"] in results:
            out.append("%s: %s / %s: in the previous report (%s), not in this one" %
                       (r["source"], r["section"], r["what"], meta.get("date_utc")))
    return out


def build_report(results, meta, root=ROOT, previous=None, skipped=None):
    """The report of a run: results maps each benchmark's name to {"text", "rc", "seconds"};
    previous, the last report: a figure it had that this run lacks is a warning (a line the
    benchmark no longer prints, or a benchmark that stopped early); skipped: name -> why, for
    benchmarks not run on request (--no-https)."""
    rows, status, warnings = [], {}, []
    for name, r in results.items():
        got, status[name], warn = parse_output(name, r["text"], r.get("rc"))
        rows.extend(got)
        warnings.extend(warn)
    rows.sort(key=section_rank)  # stable: each benchmark's own order within a section
    for name in PARSERS:
        if name not in results:
            status[name] = "not run (%s)" % (skipped or {}).get(name, "absent from this build")
            warnings.append("%s: %s" % (name, status[name]))
    warnings.extend(bench_inventory(root))
    warnings.extend(missing_since(previous, rows, results))
    return {"meta": meta, "goals": issue_goals(rows), "warnings": warnings,
            "benchmarks": {k: {"status": v, "exit": results.get(k, {}).get("rc"),
                               "seconds": results.get(k, {}).get("seconds")} for k, v in sorted(status.items())},
            "not_run": NOT_RUN, "figures": rows}


def issue_goals(rows):
    """Issue 13's goals, as ratios of this run (reported, never asserted)."""
    out = []

    def add(goal, what, value, target, met):
        out.append({"goal": goal, "what": what, "value": value, "target": target, "met": met})

    for r in rows:
        if (r["what"] == "verify warm" or r["what"].startswith("verify warm (")) and "ratio_to_floor" in r:
            add("warm verification <= 1.3 x floor", r["section"], r["ratio_to_floor"], 1.3, r["ratio_to_floor"] <= 1.3)
        if r["what"] == "verify warm, against a lower bound" and "ratio_to_floor" in r:
            add("warm verification <= 1.3 x floor (contexts kept)", r["section"], r["ratio_to_floor"], 1.3,
                r["ratio_to_floor"] <= 1.3)
        if r["what"] == "verify cold" and r.get("peer") == "@phala/dcap-qvl" and r.get("peer_over_ours"):
            add("cold SGX/TDX >= 10 x faster than dcap-qvl", r["section"], r["peer_over_ours"], 10,
                r["peer_over_ours"] >= 10)
        if r["what"].startswith("capacity from server CPU") and "ratio_to_floor" in r:
            add("HTTPS >= 70 % of (verify floor + token signature) per core", r["section"],
                round(100 * r["ratio_to_floor"], 1), 70, r["ratio_to_floor"] >= 0.7)
        if r["what"].startswith("(2-signature floor + token signature)"):
            add("HTTPS >= 70 % of (2-signature floor + token signature) per core", r["section"], r["value"], 70,
                r["value"] >= 70)
        if r["section"].startswith("policy evaluation") and r.get("note"):
            m = re.match(r"([0-9.]+) %", r["note"])
            if m:
                add("policy evaluation < 1 % of an attestation's signatures", r["what"], float(m.group(1)), 1,
                    float(m.group(1)) < 1)
    return out


def fmt(v):
    if v is None:
        return "-"
    return "%.0f" % v if v >= 100 else "%.2f" % v if v < 10 else "%.1f" % v


def print_table(report):
    m = report["meta"]
    print("\n==== attestd benchmark report  %s  commit %s" % (m["date_utc"], m["commit"]))
    print("machine: %s cores (%s); load average %s at start, %s at end (the cores are shared: wall-clock"
          " figures include the neighbours, CPU-time figures do not)" %
          (m.get("nproc"), m.get("cpu"), m.get("loadavg_start"), m.get("loadavg_end")))
    sec = None
    print("\n%-58s %12s %-15s %10s %8s %12s %8s" % ("figure", "value", "unit", "floor", "x floor", "peer",
                                                   "peer/us"))
    for r in report["figures"]:
        if r["section"] != sec:
            sec = r["section"]
            print(sec)
        print("  %-56.56s %12s %-15s %10s %8s %12s %8s" % (
            r["what"], fmt(r["value"]), r["unit"], fmt(r.get("floor")),
            ("%.2f" % r["ratio_to_floor"]) if "ratio_to_floor" in r else "-",
            fmt(r.get("peer_value")) if r.get("peer") else "-",
            ("%.1fx" % r["peer_over_ours"]) if "peer_over_ours" in r else "-"))
        if r.get("note"):
            print("      %s" % r["note"][:150])
        if r.get("no_floor"):
            print("      no floor: %s" % r["no_floor"][:150])
    if report.get("goals"):
        print("\nissue 13 goals (this run):")
        for g in report["goals"]:
            print("  %-4s %-58.58s %-46.46s %8s (target %s)" % ("MET" if g["met"] else "no", g["goal"], g["what"],
                                                              g["value"], g["target"]))
    print("\nbenchmarks:")
    for k, v in report["benchmarks"].items():
        print("  %-18s %s" % (k, v["status"]))
    if report.get("not_run"):
        print("\nleft out of this report:")
        for k, v in sorted(report["not_run"].items()):
            print("  %s: %s" % (k, v))
    if report.get("warnings"):
        print("\nWARNINGS (figures that may be missing from this report):")
        for w in report["warnings"]:
            print("  " + w)
    print("(x floor: value / floor; for rates (req/s, attestations/s) it is the share of the floor's rate."
          " peer/us: the peer's time over ours, same quote and collateral)")


if __name__ == "__main__":
    sys.exit(main())
