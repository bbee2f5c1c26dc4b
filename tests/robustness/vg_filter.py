"""What in a valgrind log is a finding (robust_valgrind, valgrind_suite.sh).

Everything is, except exactly one warning block: valgrind 3.19 does not know
the mlock2 system call (amd64 syscall 325) that OpenSSL's secure heap makes
(CRYPTO_secure_malloc_init, src/keys/secmem.c) and prints

  --PID-- WARNING: unhandled amd64-linux syscall: 325
  --PID-- You may be able to write your own handler.
  --PID-- Read the file README_MISSING_SYSCALL_OR_IOCTL.
  --PID-- Nevertheless we consider this a bug.  Please report
  --PID-- it at http://valgrind.org/support/bug_reports.html.

The call then fails with ENOSYS and OpenSSL falls back to mlock(), so the
heap is still locked: nothing is wrong in attestd. Any other unhandled
syscall, and every error or leak, stays a finding.

Usage as a script: vg_filter.py LOG... prints the findings of each log and
exits 1 when there is any.
"""
import re
import sys

_MLOCK2 = re.compile(r"^--\d+-- WARNING: unhandled amd64-linux syscall: 325$")
_TAIL = re.compile(r"^--\d+-- (You may be able to write your own handler\.|Read the file README_MISSING_SYSCALL_OR_IOCTL\.|"
                   r"Nevertheless we consider this a bug\.  Please report|it at http://valgrind\.org/support/bug_reports\.html\.)$")


def findings(text):
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        if _MLOCK2.match(lines[i]):
            i += 1
            while i < len(lines) and _TAIL.match(lines[i]):
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out).strip()


def main(paths):
    bad = 0
    for p in paths:
        f = findings(open(p, errors="replace").read())
        if f:
            print("=== %s\n%s" % (p, f))
            bad += 1
    print("valgrind: %d logs, %d with findings" % (len(paths), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
