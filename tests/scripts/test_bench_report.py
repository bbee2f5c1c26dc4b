#!/usr/bin/env python3
"""scripts/bench_report.py's parsers against saved outputs of every benchmark.

The fixtures (tests/scripts/fixtures/bench-out/<name>.out) are outputs of
our own benchmarks from Release runs on this project's 2-core machine (see
fixtures/README.md). Each parser must turn its output into the figures
below, each beside the floor its benchmark printed in the same run, account
for every line, and never let a changed, garbled or missing line disappear
without a warning.

  python3 tests/scripts/test_bench_report.py      (ctest: bench_report_parsers)
"""
import contextlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(HERE, "fixtures", "bench-out")
SCRIPT = os.path.join(ROOT, "scripts", "bench_report.py")

_spec = importlib.util.spec_from_file_location("bench_report", SCRIPT)
br = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(br)


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".out")) as f:
        return f.read()


def all_results():
    return {fn[:-4]: {"text": fixture(fn[:-4]), "rc": 0, "seconds": None}
            for fn in sorted(os.listdir(FIXTURES)) if fn.endswith(".out")}


def parse(name, text=None):
    rows, status, warnings = br.parse_output(name, fixture(name) if text is None else text, 0)
    return rows, status, warnings


def table(rows):
    """(section, what, value, unit, floor) of each row, in order."""
    return [(r["section"], r["what"], r["value"], r["unit"], r.get("floor")) for r in rows]


# Figures per benchmark in the fixtures: a parser that loses or invents one fails here.
ROW_COUNTS = {
    "bench_attest": 4, "bench_azure_guest": 7, "bench_cached_table": 3, "bench_collateral": 7, "bench_https": 2,
    "bench_policy": 10, "bench_policy_views": 4, "bench_sgx": 8, "bench_snp": 3, "bench_tcb_early": 3,
    "bench_tcg_text": 5, "bench_tdx": 14, "bench_token_sign": 4, "bench_tpm": 8, "bench_tpm_context": 4,
    "bench_tpm_verify": 0,
    "wrk_attest.sh": 10,
}


class EveryFixture(unittest.TestCase):
    def test_every_benchmark_in_the_report_has_a_fixture(self):
        self.assertEqual(set(ROW_COUNTS), set(br.PARSERS) | set(br.HELPERS))
        self.assertEqual(set(ROW_COUNTS), set(all_results()))

    def test_each_fixture_gives_its_figures_without_a_warning(self):
        for name, count in ROW_COUNTS.items():
            with self.subTest(name):
                rows, status, warnings = parse(name)
                self.assertEqual(warnings, [])
                self.assertEqual(len(rows), count)
                if count:
                    self.assertEqual(status, "ok: %d figures" % count)
                for r in rows:  # a figure has its floor, or says why it has none
                    self.assertTrue(r.get("floor") or r.get("no_floor"), r)
                    self.assertEqual(r["source"], name)

    def test_the_whole_report_of_the_fixtures_has_no_warning(self):
        report = br.build_report(all_results(), {})
        self.assertEqual(report["warnings"], [])
        self.assertEqual(len(report["figures"]), sum(ROW_COUNTS.values()))
        json.dumps(report)  # report.json can be written


class NewParsers(unittest.TestCase):
    """The five benchmarks that ran without reaching the report, figure by figure."""

    def test_cached_table(self):
        rows, _, _ = parse("bench_cached_table")
        sec = "collateral cache table (4096 entries, full; in-memory upstream)"
        self.assertEqual(table(rows), [
            (sec, "hit on a full table (key, find, copy out)", 172.0, "ns CPU", 80565.0),
            (sec, "miss on a full table (fetch, store, evict)", 2910.0, "ns CPU", 80565.0),
            (sec, "refresh pass, nothing due (one walk)", 19.5, "us CPU", 80.565),  # the same floor, in us
        ])
        self.assertIn("entries held 4096", rows[0]["note"])

    def test_collateral(self):
        rows, _, _ = parse("bench_collateral")
        sec = "collateral (sgx/phala-sgx-v3-00a067110000-2023-11, local HTTPS replay server)"
        self.assertEqual(table(rows), [
            (sec, "TCB Info lookup, cold, new connection", 1758.8, "us wall", 87.7),
            (sec, "TCB Info lookup, cold, kept-alive connection", 182.7, "us wall", 87.7),
            (sec, "TCB Info lookup, warm (cache hit, copy out)", 0.27, "us CPU", 87.7),
            (sec, "SGX attestation, collateral cold", 2342.3, "us wall", 761.6),
            (sec, "SGX attestation, collateral warm", 181.8, "us CPU", 164.4),
            (sec, "upstream requests: 10000 lookups, 100 keys, 1 thread", 100, "requests", 100),
            (sec, "upstream requests: 10000 lookups, 100 keys, 4 threads", 100, "requests", 100),
        ])
        self.assertIn("5 collateral fetches", rows[3]["note"])
        self.assertIn("the quote's 2 ECDSA P-256 checks + TCB Info, QE Identity, 3 certificates, 2 CRLs",
                      rows[3]["note"])
        self.assertIn("0 failures; 179 ms wall", rows[6]["note"])

    def test_collateral_floors_it_could_not_measure(self):
        text = re.sub(r"(floor (?:warm|cold): .*?)\s+[0-9.]+ us", r"\1       -1.0 us", fixture("bench_collateral"))
        rows, _, warnings = parse("bench_collateral", text)
        self.assertEqual([r.get("floor") for r in rows[3:5]], [None, None])
        self.assertEqual(len(warnings), 2)

    def test_policy_views(self):
        rows, _, _ = parse("bench_policy_views")
        sec = "policy views (128, full; 1479-byte policy)"
        self.assertEqual(table(rows), [
            (sec, "hit on a full table, name < 31 characters", 127.0, "ns CPU", 84134.0),
            (sec, "hit on a full table, name of 31-63 characters", 110.0, "ns CPU", 84134.0),
            (sec, "long name's key (its SHA-256), once a request", 185.0, "ns CPU", 84134.0),
            (sec, "store of a new view into a full table", 359.0, "ns CPU", 84134.0),
        ])

    def test_tcb_early(self):
        rows, _, _ = parse("bench_tcb_early")
        sec = "SgxEnclave, early TCB and baselines (synthetic platform)"
        self.assertEqual(table(rows), [
            (sec, "verify warm (no early set)", 189.3, "us CPU", 170.4),
            (sec, "verify warm (early set demoting)", 190.8, "us CPU", 170.7),
            (sec, "verify warm (early + baseline 15 by number)", 190.8, "us CPU", 169.8),
        ])
        self.assertEqual([r["note"] for r in rows], ["16 claims", "20 claims", "20 claims"])
        goals = br.issue_goals(rows)  # judged as warm verifications, each against the floor timed beside it
        self.assertEqual([(g["goal"], g["value"]) for g in goals],
                         [("warm verification <= 1.3 x floor", round(v / f, 3))
                          for v, f in ((189.3, 170.4), (190.8, 170.7), (190.8, 169.8))])
        # a figure whose floor line is missing gets no floor (not another figure's)
        lines = fixture("bench_tcb_early").splitlines(True)
        cut = table(parse("bench_tcb_early", "".join(lines[:3] + lines[4:]))[0])
        self.assertEqual(cut[1][4], None)
        self.assertEqual(cut[2][4], 169.8)

    def test_tcg_text(self):
        rows, _, _ = parse("bench_tcg_text")
        syn, real = "TPM claim texts, synthetic 62-event log", \
            "TPM claim texts, real Windows log (GCP WBCL, 21 events, verified)"
        self.assertEqual(table(rows), [
            (syn, "events text (21183 B) vs memcpy of its bytes", 7.38, "us CPU", 0.41),
            (syn, "events text (21183 B) vs hex of what it shows as hex", 7.38, "us CPU", 0.81),
            (syn, "pcrs text (3624 B) vs memcpy of its bytes", 1.17, "us CPU", 0.14),
            (syn, "caller's copy of the events text into a claim", 0.67, "us CPU", 0.41),
            (real, "events text (74157 B) vs memcpy of its bytes", 42.31, "us CPU", 1.95),
        ])
        self.assertIn("digit table: 6.96 us", rows[1]["note"])

    def test_tcg_text_a_text_whose_floor_line_went_missing_keeps_its_row(self):
        text = "".join(l for l in fixture("bench_tcg_text").splitlines(True) if "of 3624 bytes" not in l)
        rows, _, warnings = parse("bench_tcg_text", text)
        self.assertIn(("TPM claim texts, synthetic 62-event log", "pcrs text (3624 B)", 1.17, "us CPU", None),
                      table(rows))
        self.assertEqual(warnings, ["bench_tcg_text: TPM claim texts, synthetic 62-event log / pcrs text (3624 B): "
                                    "no floor (its line missing, not read, or not measured)"])

    def test_tcg_text_without_the_vectors(self):
        text = re.sub(r"  real Windows log \(.*\n.*\n", "  real Windows log: vectors absent, skipped\n",
                      fixture("bench_tcg_text"))
        rows, _, warnings = parse("bench_tcg_text", text)
        self.assertEqual((len(rows), warnings), (4, []))

    def test_a_floor_the_benchmark_could_not_measure_is_a_warning(self):
        text = re.sub(r"(floor: ECDSA P-256 signature check\s+)\d+", r"\1-1", fixture("bench_cached_table"))
        rows, _, warnings = parse("bench_cached_table", text)
        self.assertEqual([r.get("floor") for r in rows], [None, None, None])
        self.assertEqual(len(warnings), 3)
        self.assertTrue(all("no floor" in w for w in warnings), warnings)


class ExistingParsers(unittest.TestCase):
    """One figure and its floor (and peer) from each of the other benchmarks."""

    def find(self, name, section, what):
        rows, _, _ = parse(name)
        got = [r for r in rows if r["section"] == section and r["what"] == what]
        self.assertEqual(len(got), 1, (section, what))
        return got[0]

    def test_sgx_with_its_peer(self):
        r = self.find("bench_sgx", "SgxEnclave (phala-sgx-v3-2023-11)", "verify cold")
        self.assertEqual((r["value"], r["floor"], r["peer"], r["peer_value"]), (965.4, 166.3, "@phala/dcap-qvl", 12749.0))
        r = self.find("bench_sgx", "OpenEnclave (oe-js-report-2022-01)", "verify warm")
        self.assertEqual((r["value"], r["floor"]), (181.9, 167.9))

    def test_tdx_in_microseconds(self):
        r = self.find("bench_tdx", "TdxVm (google-tdx-v5-90c06f000000-2026-02)", "verify cold")
        self.assertEqual((r["value"], r["floor"], r["peer_value"]), (980.0, 160.0, 12753.0))
        r = self.find("bench_tdx", "TdxVm (edgeless-tdx-v4-00806f050000-2023-02-nocrl)", "verify cold")
        self.assertNotIn("peer", r)

    def test_snp(self):
        r = self.find("bench_snp", "SevSnpVm (real Milan v5 report)", "verify warm")
        self.assertEqual((r["value"], r["floor"]), (720.2, 702.3))

    def test_tpm(self):
        r = self.find("bench_tpm", "Tpm (protocol request, 60-event log)", "verify warm, against a lower bound")
        self.assertEqual((r["value"], r["floor"]), (84.6, 66.7))
        r = self.find("bench_tpm", "TpmQuote (real GCP quote, process level)", "verifier process, signature + PCR digest")
        self.assertEqual((r["value"], r["floor"], r["peer"], r["peer_value"]), (3940.0, 1020.0, "tpm2_checkquote", 8570.0))

    def test_tpm_sealed_context_part(self):
        rows, _, _ = parse("bench_tpm_context")
        sec = "Tpm (sealed service context, 'TPC2')"
        self.assertEqual(table(rows), [
            (sec, "tpm_context_seal", 1.96, "us CPU", 1.125),
            (sec, "tpm_context_open, this node's epoch", 0.355, "us CPU", 0.268),
            (sec, "tpm_context_open, another node's epoch (its key kept)", 0.359, "us CPU", 0.268),
            (sec, "tpm_context_open, an epoch nobody has (refused)", 4.14, "us CPU", None),
        ])
        self.assertEqual({r["source"] for r in rows}, {"bench_tpm_context"})
        self.assertEqual(br.PART_RUNS["bench_tpm_context"], ("bench_tpm", {"BENCH_TPM_ONLY": "context"}))
        text = fixture("bench_tpm_context").replace("batches)\n", "batches) [a run failed!]\n")
        _, _, warnings = parse("bench_tpm_context", text)
        self.assertEqual(len(warnings), 1)
        self.assertIn("line 2 not read: sealed service context alone", warnings[0])

    def test_token_sign(self):
        r = self.find("bench_token_sign", "token signing (RS256, RSA-2048)", "keyring_sign_jwt (attestd path)")
        self.assertEqual((r["value"], r["floor"]), (373.5, 364.9))

    def test_policy(self):
        r = self.find("bench_policy", "policy evaluation (25-claim SGX set)", "30-rule policy")
        self.assertEqual((r["value"], r["floor"]), (1.714, 368.3 + 83.9))
        r = self.find("bench_policy", "policy parse + compile (once per policy text)", "generated 200-rule policy")
        self.assertEqual(r["value"], 509.97)

    def test_attest(self):
        r = self.find("bench_attest", "SgxEnclave attestation in process (whole request, warm)", "pipeline_attest_run")
        self.assertEqual((r["value"], r["floor"]), (592.3, 536.4))

    def test_https_certs(self):
        r = self.find("bench_https", "HTTPS GET /certs", "2 workers")
        self.assertEqual((r["value"], r["floor"]), (23174.0, 2 * 771778.0))

    def test_wrk_attest(self):
        sec = "HTTPS POST /attest/SgxEnclave (2 workers)"
        r = self.find("wrk_attest.sh", sec, "capacity from server CPU/attestation")
        self.assertEqual((r["value"], r["floor"]), (2950.0, 3700.0))
        r = self.find("wrk_attest.sh", sec, "latency at ~90% of max (p50 / p99 ms)")
        self.assertEqual((r["value"], r["unit"]), (2.87, "ms p50"))

    def test_azure_guest(self):
        r = self.find("bench_azure_guest", "AzureGuest (synthetic CVM, 60-event log) TrustedLaunch",
                      "verify warm, against a lower bound")
        self.assertEqual((r["value"], r["floor"]), (67.7, 51.8))
        r = self.find("bench_azure_guest", "AzureGuest (synthetic CVM, 60-event log) TrustedLaunch, AIK certified",
                      "verify warm")
        self.assertEqual((r["value"], r["floor"]), (67.1, 64.3))
        r = self.find("bench_azure_guest", "AzureGuest (synthetic CVM, 60-event log) TrustedLaunch, AIK certified",
                      "verify warm, against a lower bound")
        self.assertEqual((r["value"], r["floor"]), (67.1, 51.8))
        r = self.find("bench_azure_guest", "AzureGuest (synthetic CVM, 60-event log) answer seal",
                      "seal (RSA-OAEP-2048 wrap + AES-256-GCM)")
        self.assertEqual((r["value"], r["floor"]), (29.9, 29.2))


GARBLES = {
    "a word of its label changed": lambda l: re.sub(r"[A-Za-z]{3,}", lambda m: m.group(0)[::-1] + "q", l, count=1),
    "cut after its first number": lambda l: l[:re.search(r"[0-9]+(\.[0-9]+)?", l).end()],
    "its unit changed": lambda l: re.sub(r"([0-9]) ?(us|ns|ms|x|%|/s)\b", r"\1 sec", l, count=1),
    "an error message instead": lambda l: "bench: verify failed at round 3: sgx.quote.truncated",
    "gone": None,
}


class NothingLostSilently(unittest.TestCase):
    """Every line a figure came from, changed in each way above: the report warns, or is unchanged."""

    def test_every_read_line_garbled(self):
        base_results = all_results()
        base = br.build_report(base_results, {})
        self.assertEqual(base["warnings"], [])
        tried = 0
        for name, res in base_results.items():
            o = br.Out(res["text"])
            (br.PARSERS.get(name) or br.HELPERS.get(name))(o)
            for i, state in enumerate(o.state):
                if state != "row":
                    continue
                for how, garble in GARBLES.items():
                    lines = list(o.lines)
                    if garble is None:
                        del lines[i]
                    else:
                        lines[i] = garble(lines[i])
                        if lines[i] == o.lines[i]:
                            continue
                    results = dict(base_results)
                    results[name] = {"text": "\n".join(lines) + "\n", "rc": 0, "seconds": None}
                    got = br.build_report(results, {}, previous=base)
                    tried += 1
                    mine = [w for w in got["warnings"] if w.startswith(name + ":")]
                    if not mine:
                        self.assertEqual(table(got["figures"]), table(base["figures"]),
                                         "%s line %d %s: figures changed without a warning" % (name, i + 1, how))
        self.assertGreater(tried, 300)

    def test_a_malformed_previous_report_is_read_as_far_as_it_goes(self):
        results = all_results()
        gone = {"section": "a", "what": "b", "source": "bench_tpm"}
        for previous in ({"figures": [{"what": "x"}]}, {"figures": None}, {"figures": [gone], "meta": None},
                         {"figures": [None, 3, gone, dict(gone, source=["bench_tpm"])], "meta": []}, [gone], None, 7):
            with self.subTest(previous=previous):
                got = br.build_report(results, {}, previous=previous)["warnings"]
                want = ["bench_tpm: a / b: in the previous report (None), not in this one"] \
                    if isinstance(previous, dict) and isinstance(previous["figures"], list) and gone in \
                    previous["figures"] else []
                self.assertEqual(got, want)

    def test_a_benchmark_without_a_parser(self):
        rows, status, warnings = br.parse_output("bench_new", "bench_new: 12.0 us\n", 0)
        self.assertEqual((rows, status), ([], "no parser for this benchmark"))
        self.assertEqual(warnings, ["bench_new: no parser: its figures are not in this report"])

    def test_a_benchmark_that_printed_nothing(self):
        rows, status, warnings = br.parse_output("bench_snp", "", 1)
        self.assertEqual(rows, [])
        self.assertTrue(status.startswith("no figures parsed (exit 1)"))
        self.assertEqual(warnings, ["bench_snp: exit status 1", "bench_snp: no figures parsed from its output"])

    def test_a_benchmark_absent_from_the_build(self):
        results = all_results()
        del results["bench_collateral"]
        report = br.build_report(results, {})
        self.assertEqual(report["warnings"], ["bench_collateral: not run (absent from this build)"])

    def test_a_helper_that_did_not_verify(self):
        _, status, warnings = br.parse_output("bench_tpm_verify", "bench_tpm_verify: tpm.quote.signature: bad\n", 0)
        self.assertEqual(status, "helper of another benchmark (no figures of its own); 1 line not read")
        self.assertEqual(warnings, ["bench_tpm_verify: line 1 not read: bench_tpm_verify: tpm.quote.signature: bad",
                                    "bench_tpm_verify: helper did not say it verified: "
                                    "bench_tpm_verify: tpm.quote.signature: bad"])

    def test_an_error_message_among_the_figures_is_reported(self):
        for name in ROW_COUNTS:  # a line without a number is read too: an error message is no header
            with self.subTest(name):
                lines = fixture(name).splitlines(True)
                text = "".join(lines[:1] + ["verify failed: sgx.quote.signature: the signature does not verify\n"] +
                               lines[1:])
                rows, _, warnings = parse(name, text)
                self.assertEqual(len(rows), ROW_COUNTS[name])
                self.assertIn("%s: line 2 not read: verify failed: sgx.quote.signature: the signature does not verify"
                              % name, warnings)


class Inventory(unittest.TestCase):
    def test_every_file_under_bench_is_reported_or_listed_as_left_out(self):
        self.assertEqual(br.bench_inventory(ROOT), [])
        for path in list(br.NOT_RUN) + list(br.RUN_SCRIPTS):
            self.assertTrue(os.path.exists(os.path.join(ROOT, path)), path)

    def test_a_new_benchmark_without_a_parser_is_a_warning(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "bench", "x"))
            for fn in ("bench_new.c", "bench_new.cmake", "run_me.sh", "bench_sgx.c"):
                open(os.path.join(d, "bench", "x", fn), "w").close()
            self.assertEqual(br.bench_inventory(d), [
                "bench/x/bench_new.c: not in this report (no parser in scripts/bench_report.py) and not listed as left out",
                "bench/x/run_me.sh: not in this report (no parser in scripts/bench_report.py) and not listed as left out",
            ])


class CommandLine(unittest.TestCase):
    def test_outputs_mode_writes_the_report_and_the_table(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "report.json")
            p = subprocess.run([sys.executable, SCRIPT, "--outputs", FIXTURES, "--out", out],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out) as f:
                report = json.load(f)
            self.assertEqual(report["warnings"], [])
            self.assertEqual(len(report["figures"]), sum(ROW_COUNTS.values()))
            for sec in ("collateral cache table", "collateral (sgx/", "policy views (128", "TPM claim texts",
                        "SgxEnclave, early TCB"):
                self.assertIn("\n" + sec, p.stdout)
            self.assertNotIn("WARNINGS", p.stdout)
            # a second run over an output with a line gone: the figure of the previous report is missed
            os.makedirs(os.path.join(d, "outs"))
            for fn in os.listdir(FIXTURES):
                text = fixture(fn[:-4])
                if fn == "bench_policy_views.out":
                    text = "".join(l for l in text.splitlines(True) if "store of a new view" not in l)
                with open(os.path.join(d, "outs", fn), "w") as f:
                    f.write(text)
            p = subprocess.run([sys.executable, SCRIPT, "--outputs", os.path.join(d, "outs"), "--out", out],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("WARNINGS", p.stdout)
            self.assertIn("bench_policy_views: policy views (128, full; 1479-byte policy) / store of a new view "
                          "into a full table: in the previous report", p.stdout)


    def test_a_benchmark_that_hangs_silently_is_stopped_with_what_it_started(self):
        with tempfile.TemporaryDirectory() as d:
            pidfile = os.path.join(d, "child.pid")
            t0 = time.monotonic()
            with contextlib.redirect_stdout(io.StringIO()) as echo:
                text, rc, secs = br.run_one("bench_hang", ["sh", "-c", "sleep 1000 & echo $! > %s; echo started; "
                                                           "wait" % pidfile], dict(os.environ), 1, d)
            self.assertEqual(echo.getvalue(), "== bench_hang\n   started\n")
            self.assertLess(time.monotonic() - t0, 8)
            self.assertEqual(text, "started\n(killed: over 1 s)\n")
            self.assertNotEqual(rc, 0)
            with open(os.path.join(d, "bench_hang.out")) as f:
                self.assertEqual(f.read(), text)
            with open(pidfile) as f:
                child = int(f.read())
            for _ in range(40):  # the sleep in its group is gone (or a zombie its new parent has yet to reap)
                try:
                    with open("/proc/%d/stat" % child) as f:
                        if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                            break
                except FileNotFoundError:
                    break
                time.sleep(0.05)
            else:
                self.fail("the benchmark's child %d outlived it" % child)

    def test_run_mode_runs_each_program_its_parts_and_saves_the_outputs(self):
        # Stand-ins that replay saved outputs: what is tested is the runner (which programs it
        # runs, with what environment, what it saves and reports), not the benchmarks.
        with tempfile.TemporaryDirectory() as d:
            bdir = os.path.join(d, "bench")
            os.makedirs(bdir)
            progs = {
                "bench_tcb_early": 'cat "%s"' % os.path.join(FIXTURES, "bench_tcb_early.out"),
                "bench_tpm": 'if [ "$BENCH_TPM_ONLY" = context ]; then cat "%s"; else cat "%s"; fi' % (
                    os.path.join(FIXTURES, "bench_tpm_context.out"), os.path.join(FIXTURES, "bench_tpm.out")),
                "bench_tpm_verify": 'cat "%s"' % os.path.join(FIXTURES, "bench_tpm_verify.out"),
                "bench_gone_wrong": 'echo "bench_gone_wrong: 12.5 us"; exit 3',
            }
            for name, body in progs.items():
                with open(os.path.join(bdir, name), "w") as f:
                    f.write("#!/bin/sh\n" + body + "\n")
                os.chmod(os.path.join(bdir, name), 0o755)
            out = os.path.join(d, "report.json")
            p = subprocess.run([sys.executable, SCRIPT, "--build", d, "--no-https", "--out", out],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out) as f:
                report = json.load(f)
            counts = {}
            for r in report["figures"]:
                counts[r["source"]] = counts.get(r["source"], 0) + 1
            self.assertEqual(counts, {"bench_tcb_early": 3, "bench_tpm": 8, "bench_tpm_context": 4})
            b = report["benchmarks"]
            self.assertEqual(b["bench_gone_wrong"]["exit"], 3)
            self.assertEqual(b["wrk_attest.sh"]["status"], "not run (--no-https)")
            self.assertIn("bench_gone_wrong: no parser: its figures are not in this report", report["warnings"])
            self.assertEqual(sorted(os.listdir(os.path.join(d, "bench-out"))),
                             sorted([n + ".out" for n in progs] + ["bench_tpm_context.out", "meta.json"]))
            with open(os.path.join(d, "bench-out", "meta.json")) as f:
                self.assertIn("loadavg_end", json.load(f))
            self.assertIn("\nTpm (sealed service context, 'TPC2')\n", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=1)
