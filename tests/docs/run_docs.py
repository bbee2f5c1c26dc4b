#!/usr/bin/env python3
"""Runs the commands a Markdown document (or man page) shows, as written.

    tests/docs/run_docs.py --src SOURCE_DIR --build BUILD_DIR [--keep] DOC...

The convention it enforces is tests/docs/README.md: every shell block carries a marker
(`<!-- run: local|dev|postgres -->` or `<!-- run: no (reason) -->`), every
fence names its language, and every --option of an inline `attestctl ...` or
`attestd ...` command appears in that command's --help. The runnable blocks of
one document run in document order in one bash session, in a scratch folder
laid out like the source folder, against the fixtures they ask for (a fresh
development attestd, a throw-away PostgreSQL).

Exit: 0 pass, 1 fail, 77 skipped (a fixture the document needs is missing).
"""
import argparse
import fcntl
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SHELL_LANGS = {"sh", "bash", "shell", "console", "zsh", "shell-session"}
CONTEXTS = {"local", "dev", "postgres"}
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
PG_PLACEHOLDER = "postgresql://attestd@db.example/attestd"
PATH_SUBS = ("/etc/attestd", "/var/lib/attestd")


class Block:
    def __init__(self, line, lang, info, text):
        self.line = line  # 1-based line of the opening fence
        self.lang = lang
        self.info = info
        self.text = text
        self.marker = None  # "run", "file", "tour" or None
        self.context = None  # run: local|dev|postgres|no
        self.reason = None
        self.setup = ""
        self.check = ""
        self.path = None  # file: PATH


def comment_before(lines, idx):
    """The HTML comment ending on the last non-blank line before lines[idx]."""
    j = idx - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0 or not lines[j].rstrip().endswith("-->"):
        return None
    k = j
    while k >= 0 and "<!--" not in lines[k]:
        k -= 1
    if k < 0:
        return None
    text = "\n".join(lines[k : j + 1]).strip()
    return text[text.index("<!--") + 4 : text.rindex("-->")]


def comment_after(lines, idx):
    """The HTML comment starting on the first non-blank line after lines[idx]."""
    j = idx + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j >= len(lines) or not lines[j].lstrip().startswith("<!--"):
        return None
    k = j
    while k < len(lines) and "-->" not in lines[k]:
        k += 1
    if k >= len(lines):
        return None
    text = "\n".join(lines[j : k + 1]).strip()
    return text[4 : text.rindex("-->")]


def parse_markdown(text):
    """Fenced blocks with their markers; a list of errors."""
    lines = text.split("\n")
    blocks, errors = [], []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3).strip()
        body, j = [], i + 1
        while j < len(lines):
            c = lines[j].strip()
            if c.startswith(fence[0] * len(fence)) and not c.strip(fence[0]):
                break
            ln = lines[j]
            body.append(ln[len(indent) :] if ln.startswith(indent) else ln.lstrip())
            j += 1
        if j >= len(lines):
            errors.append(f"{i + 1}: fence never closed")
            break
        lang = info.split()[0] if info else ""
        b = Block(i + 1, lang, info, "\n".join(body) + "\n")
        before = comment_before(lines, i)
        if before is not None:
            head, _, rest = before.strip().partition("\n")
            head = head.strip()
            if head.startswith("run:"):
                b.marker = "run"
                spec = head[4:].strip()
                mm = re.match(r"^(\w+)\s*(?:\((.*)\))?\s*$", spec)
                if not mm:
                    errors.append(f"{b.line}: marker 'run: {spec}' is not 'run: CONTEXT' or 'run: no (reason)'")
                else:
                    b.context, b.reason = mm.group(1), (mm.group(2) or "").strip()
                    if b.context not in CONTEXTS | {"no"}:
                        errors.append(f"{b.line}: unknown context 'run: {b.context}' (local, dev, postgres, no)")
                    if b.context == "no" and not b.reason:
                        errors.append(f"{b.line}: 'run: no' needs its reason: <!-- run: no (why) -->")
                b.setup = rest
            elif head.startswith("file:"):
                b.marker, b.path = "file", head[5:].strip()
                if not b.path:
                    errors.append(f"{b.line}: 'file:' marker without a path")
            elif head.startswith("tour:begin"):
                b.marker = "tour"
        after = comment_after(lines, j)
        if after is not None and after.strip().startswith("check:"):
            b.check = after.strip()[len("check:") :]
        if not lang:
            errors.append(f"{b.line}: a fence without a language (write text, ini, json, sh, ...)")
        elif b.marker == "run" and lang not in SHELL_LANGS:
            errors.append(f"{b.line}: a run: marker on a ```{lang} block (run: is for sh/console; file: writes a file)")
        elif lang in SHELL_LANGS and b.marker not in ("run", "tour", "file"):
            errors.append(
                f"{b.line}: ```{lang} block without a marker: <!-- run: local|dev|postgres --> or <!-- run: no (why) -->"
            )
        blocks.append(b)
        i = j + 1
    return blocks, errors


# --- inline commands -------------------------------------------------------

class HelpIndex:
    """What `attestctl ... --help` and `attestd --help` list, asked once each."""

    def __init__(self, attestctl, attestd, src):
        self.bins = {"attestctl": attestctl, "attestd": attestd}
        self.src = src
        self.cache = {}

    def help(self, words):
        key = tuple(words)
        if key not in self.cache:
            exe = self.bins[words[0]]
            r = subprocess.run([exe, *words[1:], "--help"], capture_output=True, text=True, timeout=20)
            self.cache[key] = (r.returncode, r.stdout + r.stderr)
        return self.cache[key]

    @staticmethod
    def listed(text, section):
        """Words listed under 'Commands:' or 'Verbs:'."""
        out, on = set(), False
        for ln in text.split("\n"):
            if ln.strip().startswith(section):
                on = True
                continue
            if on:
                m = re.match(r"^\s{2,}([a-z][\w-]*)\s", ln)
                if m:
                    out.add(m.group(1))
                elif ln.strip() and not ln.startswith(" "):
                    on = False
        return out

    @staticmethod
    def options(text):
        return set(re.findall(r"(?:^|[\s,(|\[])(--[a-z][\w-]*)", text))


GLOBAL_WITH_VALUE = {"--url", "--cacert", "--token", "--config", "-o", "--output"}


def check_inline(cmd, helps):
    """Errors for one inline command line: unknown command, verb or option."""
    try:
        words = shlex.split(cmd, comments=False)
    except ValueError:
        words = cmd.split()
    if words and words[0] == "make":
        return make_errors(cmd, words[1:], helps.src)
    if not words or words[0] not in ("attestctl", "attestd"):
        return []
    prog = words[0]
    rc, top = helps.help([prog])
    if rc != 0:
        return [f"`{prog} --help` failed ({rc})"]
    allowed = helps.options(top)
    errs = []
    path = [prog]
    rest = words[1:]
    if prog == "attestctl":
        k = 0
        while k < len(rest) and rest[k].startswith("-"):
            opt = rest[k].split("=")[0]
            if opt not in allowed and opt != "-o":
                errs.append(f"`{cmd}`: global option {opt} is not in `attestctl --help`")
            k += 2 if opt in GLOBAL_WITH_VALUE and "=" not in rest[k] else 1
        rest = rest[k:]
        commands = helps.listed(top, "Commands:")
        if rest and re.fullmatch(r"[a-z][\w-]*", rest[0]):
            if rest[0] not in commands:
                return errs + [f"`{cmd}`: no command '{rest[0]}' in `attestctl --help`"]
            path.append(rest.pop(0))
            _, ctext = helps.help(path)
            verbs = helps.listed(ctext, "Verbs:")
            if verbs and rest and re.fullmatch(r"[a-z][\w-]*", rest[0]) and rest[0] in verbs:
                path.append(rest.pop(0))
            elif verbs and rest and re.fullmatch(r"[a-z][\w-]*", rest[0]):
                return errs + [f"`{cmd}`: no verb '{rest[0]}' in `{' '.join(path)} --help`"]
            rc, vtext = helps.help(path)
            if rc != 0:
                return errs + [f"`{' '.join(path)} --help` failed ({rc})"]
            allowed = allowed | helps.options(vtext)
    # Options, also inside [--x] and (--a | --b) groups.
    for opt in re.findall(r"(?:^|[\s\[(|])(--[a-z][\w-]*)", " " + " ".join(rest)):
        if opt not in allowed:
            errs.append(f"`{cmd}`: {opt} is not an option of `{' '.join(path)}` (see its --help)")
    return errs


def unrun_block_checks(b, src, build):
    """A block that is not run is still checked: bash syntax, the repository
    paths it names, and its attestctl/attestd/make commands (as inline ones)."""
    errs, cmds = [], []
    if b.lang != "console":
        r = subprocess.run(["bash", "-n"], input=b.text, capture_output=True, text=True)
        errs += [f"{b.line}: (not run, but) bash -n: {ln}" for ln in r.stderr.splitlines() if ln.strip()]
    text = re.sub(r"\\\n", " ", b.text)
    for k, ln in enumerate(text.split("\n")):
        ln = re.sub(r"^\$ ", "", ln.strip())
        ln = re.sub(r"\s#.*$", "", ln)
        ln = re.sub(r"^(sudo|[A-Z_]+=\S*)\s+", "", ln)
        if re.match(r"^(attestctl|attestd|make)(\s|$)", ln):
            cmds.append((b.line, ln))
        if re.match(r"^ctest\s", ln):
            errs += [f"{b.line}: (not run, but) {e}" for e in ctest_errors(ln, build)]
        for tok in ln.split():
            if tok.startswith(REPO_DIRS) and "$" not in tok and not any(
                    glob.glob(os.path.join(src, tok) + ext) for ext in ("", ".c", ".sh", ".py")):
                errs.append(f"{b.line}: (not run, but) `{tok}` names no file of the repository")
    return errs, cmds


def ctest_errors(line, build):
    """`ctest -R X` / `-L Y`: some test of the build under test must match."""
    errs = []
    words = shlex.split(line)
    for k, w in enumerate(words[:-1]):
        if w in ("-R", "-L", "--tests-regex", "--label-regex"):
            r = subprocess.run(["ctest", "--test-dir", build, "-N", w, words[k + 1]],
                               capture_output=True, text=True)
            if re.search(r"Total Tests: 0\b", r.stdout):
                errs.append(f"`ctest {w} {words[k + 1]}` selects no test of this build")
    return errs


def make_errors(cmd, args, src):
    """`make x`: x must be a target of the Makefile."""
    try:
        with open(os.path.join(src, "Makefile")) as f:
            targets = set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", f.read(), re.M))
    except OSError:
        return []
    return [f"`{cmd}`: no target '{t}' in the Makefile" for t in args
            if re.fullmatch(r"[a-z][\w-]*", t) and t not in targets]


def inline_commands(text):
    """`attestctl ...` / `attestd ...` code spans outside fenced blocks."""
    out, in_fence = [], None
    for n, ln in enumerate(text.split("\n"), 1):
        m = FENCE.match(ln)
        if m:
            if in_fence is None:
                in_fence = m.group(2)[0]
            elif ln.strip().startswith(in_fence * 3):
                in_fence = None
            continue
        if in_fence is not None:
            continue
        for span in re.findall(r"``?([^`]+)``?", ln):
            s = span.strip()
            if re.match(r"^(attestctl|attestd|make)(\s|$)", s):
                # `a|b|c` alternatives: each side is checked separately by the
                # option test anyway; `<x>` and `...` are placeholders.
                out.append((n, s))
    return out


def man_commands(text):
    """Commands a man page shows: attestctl(1)'s command lines and options."""
    def plain(s):
        s = re.sub(r"\\f[BIRP]", "", s)
        return s.replace("\\-", "-").replace("\\(em", "-")
    prog = "attestctl" if re.search(r"^\.TH ATTESTCTL", text, re.M) else "attestd"
    out, section = [], ""
    lines = text.split("\n")
    for n, ln in enumerate(lines, 1):
        if ln.startswith(".SH"):
            section = ln[3:].strip().strip('"')
            continue
        p = plain(ln)
        if section == "COMMANDS" and ln.startswith(".B "):
            out.append((n, prog + " " + p[3:].strip()))
        elif section in ("SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS", "OPTIONS"):
            for opt in re.findall(r"(--[a-z][\w-]*)", p):
                out.append((n, f"{prog} {opt}"))
    return out


def man_page_errors(path, text, helps):
    """groff warnings, and (attestctl(1)) a command of --help missing from COMMANDS."""
    errs = []
    if shutil.which("groff"):
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path], capture_output=True, text=True)
        errs += [f"0: groff: {ln}" for ln in r.stderr.splitlines() if ln.strip()]
    if re.search(r"^\.TH ATTESTCTL", text, re.M):
        _, top = helps.help(["attestctl"])
        shown = {c.split()[1] for _, c in man_commands(text) if len(c.split()) > 1}
        for cmd in sorted(helps.listed(top, "Commands:") - shown):
            errs.append(f"0: `attestctl {cmd}` is in `attestctl --help` but not under COMMANDS")
    return errs


REPO_DIRS = ("src/", "tests/", "docs/", "bench/", "scripts/", "dist/", "include/", "examples/", "fuzz/", "cmake/")


def path_errors(doc_path, text, src):
    """Repository paths in code spans and relative links must exist, so a
    renamed file or test does not leave the docs pointing at nothing."""
    errs, fence = [], None
    for n, ln in enumerate(text.split("\n"), 1):
        m = FENCE.match(ln)
        if m:
            fence = m.group(2)[0] if fence is None else (None if ln.strip().startswith(fence * 3) else fence)
            continue
        if fence is not None:
            continue
        for span in re.findall(r"`([^`]+)`", ln):
            for tok in re.split(r"[\s,()]+", span):
                if not tok.startswith(REPO_DIRS) or "{" in tok or "$" in tok:
                    continue
                pat = re.sub(r"<[^>]*>", "*", tok.rstrip(".:;")).split("#")[0]
                base = os.path.join(src, pat)
                if not any(glob.glob(base + ext) for ext in ("", ".c", ".sh", ".py")):
                    errs.append(f"{n}: `{pat}` names no file of the repository")
        for target in re.findall(r"\]\(([^)#\s]+)", ln):
            if re.match(r"^[a-z]+:", target):
                continue  # http:, https:, mailto:
            full = os.path.normpath(os.path.join(os.path.dirname(doc_path), target))
            if full.startswith(src + os.sep) and not os.path.exists(full):
                errs.append(f"{n}: the link ({target}) leads nowhere")
    return errs


# --- running ---------------------------------------------------------------

def substitute(text, root, port, pg_uri):
    if port:
        text = text.replace("https://127.0.0.1:8443", f"https://127.0.0.1:{port}")
        text = text.replace("127.0.0.1:8443", f"127.0.0.1:{port}")
    for p in PATH_SUBS:
        text = re.sub(r"(?<![\w./-])" + re.escape(p), root + p, text)
    if pg_uri:
        text = text.replace(PG_PLACEHOLDER, pg_uri)
    return text


ATTESTD_WRAPPER = r"""#!/usr/bin/env bash
# attestd as a documentation block runs it: --help/--version as is; otherwise
# started with a free port, stopped with SIGTERM once it listens (see
# tests/docs/README.md). Passes when it came up and exited 0.
real=%(real)s
for a in "$@"; do
  case $a in --help|-h|--version) exec "$real" "$@";; esac
done
pf=$(mktemp /tmp/attest-docs-port-XXXXXX); rm -f "$pf"
"$real" "$@" --port 0 --port-file "$pf" &
p=$!
for _ in $(seq 1 600); do
  [ -s "$pf" ] && break
  kill -0 "$p" 2>/dev/null || break
  sleep 0.1
done
if [ ! -s "$pf" ]; then
  wait "$p"; rc=$?
  echo "docs: attestd $* exited ($rc) before it listened" >&2
  [ "$rc" = 0 ] && rc=1
  exit "$rc"
fi
port=$(cat "$pf"); rm -f "$pf"
echo "docs: attestd $* listened on port $port; stopping it" >&2
kill -TERM "$p"
wait "$p"; rc=$?
[ "$rc" = 0 ] || echo "docs: attestd exited $rc after SIGTERM" >&2
exit "$rc"
"""


def layout(root, src, build):
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "build/release/src/cli"))
    os.makedirs(os.path.join(root, "build/release/src/server"))
    os.makedirs(os.path.join(root, "etc/attestd"))
    os.makedirs(os.path.join(root, "var/lib"))
    real_ctl = os.path.join(build, "src/cli/attestctl")
    real_d = os.path.join(build, "src/server/attestd")
    wrapper = os.path.join(root, "bin/attestd")
    with open(wrapper, "w") as f:
        f.write(ATTESTD_WRAPPER % {"real": shlex.quote(real_d)})
    os.chmod(wrapper, 0o755)
    os.symlink(real_ctl, os.path.join(root, "bin/attestctl"))
    os.symlink(real_ctl, os.path.join(root, "build/release/src/cli/attestctl"))
    os.symlink(wrapper, os.path.join(root, "build/release/src/server/attestd"))
    shutil.copytree(os.path.join(src, "docs/examples"), os.path.join(root, "docs/examples"))
    for d in ("tests", "scripts", "bench"):
        if os.path.isdir(os.path.join(src, d)):
            os.symlink(os.path.join(src, d), os.path.join(root, d))


DEV_PROLOGUE = r"""
export ATTESTD_URL=https://127.0.0.1:%(port)d ATTESTD_CACERT=data/tls/dev-cert.pem
export ATTESTD_TOKEN="$(cat data/admin-credential)"
"""


def dev_args(text, vectors):
    """Options a document adds to its development attestd: `<!-- dev-args: --pccs -->`
    ($ATTEST_VECTORS expanded; later options override the fixture's, e.g. --collateral-dir)."""
    out = []
    for m in re.finditer(r"<!--\s*dev-args:(.*?)-->", text, re.S):
        out += shlex.split(m.group(1).replace("$ATTEST_VECTORS", vectors).replace("${ATTEST_VECTORS}", vectors))
    return out


def devplat_keys(build):
    """A development platform's keys, made once per build folder: `dev init`
    spends seconds of CPU on its RSA-4096 AMD keys, every later one reuses them."""
    cache = os.path.join(build, "docs-devplat")
    ctl = os.path.join(build, "src/cli/attestctl")
    with open(cache + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(cache) and os.path.getmtime(cache) < os.path.getmtime(ctl):
            shutil.rmtree(cache)  # made by an older attestctl: its key set may differ
        if not os.path.isdir(os.path.join(cache, "keys")):
            tmp = cache + f".tmp{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            subprocess.run([ctl, "dev", "init", "--dir", tmp],
                           check=True, stdout=subprocess.DEVNULL)
            os.rename(tmp, cache)
    return os.path.join(cache, "keys")


class DevServer:
    """The development attestd, started as `make run` starts it (README tour),
    on a port of its choosing; stopped with SIGTERM, and it must exit 0."""

    def __init__(self, root, build, extra=()):
        self.root, self.build, self.proc, self.port = root, build, None, 0
        self.extra = list(extra)  # the document's <!-- dev-args: ... -->
        self.log = os.path.join(root, "attestd.log")

    def start(self):
        ctl = os.path.join(self.build, "src/cli/attestctl")
        # The platform's keys as a second `make run` finds them (dev init
        # keeps DIR/keys and writes roots and collateral afresh).
        shutil.copytree(devplat_keys(self.build), os.path.join(self.root, "data/devplat/keys"))
        subprocess.run([ctl, "dev", "init", "--dir", "data/devplat"], cwd=self.root, check=True,
                       stdout=subprocess.DEVNULL)
        pf = os.path.join(self.root, ".attestd-port")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [os.path.join(self.build, "src/server/attestd"), "--dev", "--data", "data", "--port", "0",
                 "--port-file", pf, "--bootstrap-admin-file", "data/admin-credential",
                 "--trust-roots", "data/devplat/roots.pem", "--collateral-dir", "data/devplat/collateral"]
                + self.extra,
                cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        need = [pf, os.path.join(self.root, "data/admin-credential"), os.path.join(self.root, "data/tls/dev-cert.pem")]
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError(f"the development attestd exited ({self.proc.returncode}) before it listened")
            if all(os.path.exists(f) and os.path.getsize(f) > 0 for f in need):
                with open(pf) as f:
                    self.port = int(f.read().strip())
                return self.port
            time.sleep(0.1)
        raise RuntimeError("the development attestd did not listen within 60 s")

    def stop(self):
        """'' when it stopped cleanly, else what went wrong."""
        if self.proc is None or self.proc.poll() is not None:
            return "" if self.proc is None else f"the development attestd had exited ({self.proc.returncode})"
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "the development attestd did not stop within 60 s of SIGTERM"
        return "" if rc == 0 else f"the development attestd exited {rc} after SIGTERM"


PROLOGUE = r"""
# The development attestd, started as `make run` starts it (README tour).
attestctl dev init --dir data/devplat >/dev/null
%(attestd)s --dev --data data --port %(port)d --bootstrap-admin-file data/admin-credential \
  --trust-roots data/devplat/roots.pem --collateral-dir data/devplat/collateral >"$DOCS_ROOT/attestd.log" 2>&1 &
__docs_server=$!
for _ in $(seq 1 300); do
  [ -s data/admin-credential ] && [ -s data/tls/dev-cert.pem ] && \
    curl -sf --cacert data/tls/dev-cert.pem https://127.0.0.1:%(port)d/readyz >/dev/null 2>&1 && break
  kill -0 "$__docs_server" 2>/dev/null || { echo "docs: the development attestd did not start"; cat "$DOCS_ROOT/attestd.log"; exit 1; }
  sleep 0.1
done
export ATTESTD_URL=https://127.0.0.1:%(port)d ATTESTD_CACERT=data/tls/dev-cert.pem
export ATTESTD_TOKEN="$(cat data/admin-credential)"
"""

PROLOGUE = r"""set -euo pipefail
export DOCS_ROOT=%(root)s
export DOCS_FILE=%(doc)s   # the document being run (checks may read it)
export DOCS_BUILD=%(build)s   # the build under test (ctest --test-dir "$DOCS_BUILD")
export DOCS_DEVPLAT_KEYS=%(keys)s   # a development platform's keys, for hidden setup
export PATH="$DOCS_ROOT/bin:$PATH"
export ATTEST_VECTORS=%(vectors)s
export NO_COLOR=1
# curl as on a terminal (no progress meter), and an HTTP error fails the block
# (a block showing an error answer on purpose writes `curl --no-fail`).
printf -- '--silent\n--show-error\n--fail\n' >"$DOCS_ROOT/.curlrc"
export CURL_HOME="$DOCS_ROOT"
__docs_at="(start)"
trap '__rc=$?; { set +x; } 2>/dev/null; case $BASH_COMMAND in exit*) ;; *) echo "FAIL: $__docs_at: exit $__rc from: $BASH_COMMAND" >&2;; esac' ERR
cd "$DOCS_ROOT"
"""


def console_script(block, doc, idx, root):
    """A console block: each `$ ` command's output compared with the doc's."""
    cmds, cur = [], None
    for ln in block.text.rstrip("\n").split("\n"):
        if ln.startswith("$ "):
            cur = {"cmd": [ln[2:]], "out": []}
            cmds.append(cur)
        elif ln.startswith("> ") and cur is not None and not cur["out"]:
            cur["cmd"].append(ln[2:])
        elif cur is not None:
            cur["out"].append(ln)
    parts = []
    for k, c in enumerate(cmds):
        exp = os.path.join(root, f".docs-expect-{idx}-{k}")
        want_rc = 0
        if c["out"] and re.fullmatch(r"\[exit (\d+)\]", c["out"][-1].strip()):
            want_rc = int(re.fullmatch(r"\[exit (\d+)\]", c["out"][-1].strip()).group(1))
            c["out"].pop()
        with open(exp, "w") as f:
            f.write("\n".join(c["out"]) + ("\n" if c["out"] else ""))
        cmd = "\n".join(c["cmd"])
        at = shlex.quote(f"{doc}:{block.line} $ {c['cmd'][0]}")
        parts.append(
            f"__docs_at={at}\n"
            f"{{\n{cmd}\n}} >\"{exp}.out\" 2>\"{exp}.err\" && __rc=0 || __rc=$?\n"
            f"cat \"{exp}.out\" \"{exp}.err\"\n"
            f"[ \"$__rc\" = {want_rc} ] || {{ echo \"FAIL: $__docs_at: exit $__rc, the doc shows {want_rc}\" >&2; exit 1; }}\n"
            f"python3 {shlex.quote(os.path.abspath(__file__))} --match \"{exp}\" \"{exp}.out\" \"{exp}.err\" "
            f"|| {{ echo \"FAIL: $__docs_at: output differs from the doc\" >&2; exit 1; }}\n"
        )
    return "".join(parts)


def match_output(expected, actual):
    """Doc output vs real output: `...` lines match any lines, `…` any text."""
    exp = [ln.rstrip() for ln in expected.rstrip("\n").split("\n")] if expected.strip() else []
    act = [ln.rstrip() for ln in actual.rstrip("\n").split("\n")] if actual.strip() else []

    def line_ok(e, a):
        pat = "^" + ".*".join(re.escape(p) for p in e.split("…")) + "$"
        return re.match(pat, a) is not None

    def go(i, j):
        if i == len(exp):
            return j == len(act)
        if exp[i] == "...":
            return any(go(i + 1, k) for k in range(j, len(act) + 1))
        return j < len(act) and line_ok(exp[i], act[j]) and go(i + 1, j + 1)

    return go(0, 0)


def build_script(doc, doc_path, blocks, root, port, pg_uri, vectors, build):
    s = [PROLOGUE % {"root": shlex.quote(root), "vectors": shlex.quote(vectors), "doc": shlex.quote(doc_path), "build": shlex.quote(build),
                          "keys": shlex.quote(devplat_keys(build))}]
    if any(b.context == "dev" for b in blocks):
        s.append(DEV_PROLOGUE % {"port": port})
    for idx, b in enumerate(blocks):
        sub = lambda t: substitute(t, root, port, pg_uri)  # noqa: E731
        if b.marker == "file":
            path = sub(b.path)
            s.append(f"# {doc}:{b.line} file: {b.path}\nmkdir -p \"$(dirname {shlex.quote(path)})\"\n")
            s.append(f"cat >{shlex.quote(path)} <<'__DOCS_FILE_EOF'\n{sub(b.text)}__DOCS_FILE_EOF\n")
            if b.check.strip():
                s.append(f"__docs_at={shlex.quote(f'{doc}:{b.line} (check of the file)')}\n{sub(b.check)}\n")
            continue
        if b.marker != "run" or b.context == "no":
            continue
        s.append(f"\necho '--- {doc}:{b.line} (run: {b.context})' >&2\n")
        if b.setup.strip():
            s.append(f"__docs_at={shlex.quote(f'{doc}:{b.line} (hidden setup)')}\n{sub(b.setup)}\n")
        s.append(f"__docs_at={shlex.quote(f'{doc}:{b.line}')}\n")
        if b.lang == "console":
            b.text = sub(b.text)
            s.append(console_script(b, doc, idx, root))
        else:
            s.append("set -x\n" + sub(b.text) + "{ set +x; } 2>/dev/null\n")
        if b.check.strip():
            s.append(f"__docs_at={shlex.quote(f'{doc}:{b.line} (check)')}\n{sub(b.check)}\n")
    s.append("\necho 'docs: every block ran' >&2\n")
    return "".join(s)


def run_doc(doc, src, build, helps, vectors, keep):
    path = os.path.join(src, doc)
    with open(path) as f:
        text = f.read()
    errors = []
    if doc.endswith((".1", ".8", ".5", ".3")) or "/man/" in doc:
        blocks, cmds = [], man_commands(text)
        errors += man_page_errors(path, text, helps)
    else:
        blocks, errors = parse_markdown(text)
        errors += path_errors(path, text, src)
        cmds = inline_commands(text)
        for b in blocks:
            if b.marker == "run" and b.context == "no":
                errs, more = unrun_block_checks(b, src, build)
                errors += errs
                cmds += more
    for n, cmd in cmds:
        for alt in expand_alternatives(cmd):
            errors += [f"{n}: {e}" for e in check_inline(alt, helps)]
    errors = sorted(set(errors), key=lambda e: int(e.split(":")[0]))
    for e in errors:
        print(f"FAIL: {doc}:{e}")
    runnable = [b for b in blocks if b.marker == "run" and b.context in CONTEXTS]
    skipped = [b for b in blocks if b.marker == "run" and b.context == "no"]
    if errors:
        return 1
    if not runnable:
        for b in skipped:
            print(f"not run: {doc}:{b.line}: {b.reason}")
        print(f"PASS: {doc}: no runnable block; {len(cmds)} inline commands checked against --help")
        return 0
    if "ATTEST_VECTORS" in text and not os.path.isdir(vectors):
        print(f"SKIP: {doc} uses the real vectors and {vectors} is absent (set ATTEST_VECTORS)")
        return 77
    pg_uri = os.environ.get("ATTEST_TEST_STORE_URI")
    if any(b.context == "postgres" for b in runnable) and not pg_uri:
        # Run again under a throw-away PostgreSQL (exit 77 when none is installed).
        r = subprocess.run(
            [os.path.join(src, "tests/ha/with_pg.sh"), sys.executable, os.path.abspath(__file__),
             "--src", src, "--build", build, "--vectors", vectors] + (["--keep"] if keep else []) + [doc]
        )
        return r.returncode
    for b in skipped:
        print(f"not run: {doc}:{b.line}: {b.reason}")
    root = tempfile.mkdtemp(prefix="attest-docs-")
    os.chmod(root, 0o755)
    server = DevServer(root, build, dev_args(text, vectors))
    try:
        layout(root, src, build)
        port = server.start() if any(b.context == "dev" for b in runnable) else 0
        script = build_script(doc, path, blocks, root, port, pg_uri, vectors, build)
        with open(os.path.join(root, ".docs-script.sh"), "w") as f:
            f.write(script)
        r = subprocess.run(["bash", os.path.join(root, ".docs-script.sh")], cwd=root, timeout=600)
        stopped = server.stop()
        if r.returncode != 0 or stopped:
            if os.path.exists(server.log):
                print("--- development attestd log (last 20 lines)")
                with open(server.log) as f:
                    print("".join(f.readlines()[-20:]))
            why = stopped if r.returncode == 0 else "a block failed"
            print(f"FAIL: {doc}: {why} (script: {root}/.docs-script.sh{'' if keep else ', removed; --keep keeps it'})")
            return 1
        print(
            f"PASS: {doc}: {len(runnable)} blocks run ({len(skipped)} marked not run), "
            f"{len(cmds)} inline commands checked against --help"
        )
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"FAIL: {doc}: {e}")
        if os.path.exists(server.log):
            with open(server.log) as f:
                print("".join(f.readlines()[-20:]))
        return 1
    finally:
        server.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def expand_alternatives(cmd):
    """`attestctl signer add|remove|list` -> one command per alternative word."""
    words = cmd.split()
    for k, w in enumerate(words):
        if "|" in w and not w.startswith(("-", "<", "(", "[")) and re.fullmatch(r"[a-z|-]+", w):
            return [" ".join(words[:k] + [alt] + words[k + 1 :]) for alt in w.split("|") if alt]
    return [cmd]


def main():
    sys.stdout.reconfigure(line_buffering=True)  # our lines in order with the blocks' output
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default=".")
    ap.add_argument("--build", default="build/debug")
    ap.add_argument("--vectors", default=os.environ.get("ATTEST_VECTORS", ""))
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--devplat-keys", action="store_true",
                    help="print the folder of the build's cached development platform keys, making them if needed")
    ap.add_argument("--match", nargs=3, metavar=("EXPECTED", "STDOUT", "STDERR"), help=argparse.SUPPRESS)
    ap.add_argument("docs", nargs="*")
    a = ap.parse_args()
    if a.match:
        # A terminal interleaves the two streams as the program wrote them,
        # which a capture cannot reproduce: the doc may show either first.
        with open(a.match[0]) as e, open(a.match[1]) as o, open(a.match[2]) as r:
            exp, out, err = e.read(), o.read(), r.read()
        out, err = [t + "\n" if t and not t.endswith("\n") else t for t in (out, err)]
        if match_output(exp, out + err) or match_output(exp, err + out):
            return 0
        sys.stderr.write("--- the doc shows:\n" + exp + "--- the command printed (stdout, then stderr):\n" + out + err)
        return 1
    src, build = os.path.abspath(a.src), os.path.abspath(a.build)
    if a.devplat_keys:
        print(devplat_keys(build))
        return 0
    vectors = a.vectors or os.path.normpath(os.path.join(src, "../shared/vectors"))
    helps = HelpIndex(os.path.join(build, "src/cli/attestctl"), os.path.join(build, "src/server/attestd"), src)
    worst = 0
    for doc in a.docs:
        rc = run_doc(os.path.relpath(os.path.join(src, doc), src) if not os.path.isabs(doc) else os.path.relpath(doc, src),
                     src, build, helps, vectors, a.keep)
        if rc == 77 and worst == 0:
            worst = 77
        elif rc not in (0, 77):
            worst = 1
    return worst


if __name__ == "__main__":
    sys.exit(main())
