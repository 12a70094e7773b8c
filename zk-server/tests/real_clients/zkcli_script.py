#!/usr/bin/env python3
"""Runs zkcli_script.txt through the Java zkCli against HOST:PORT and checks its output.

usage: zkcli_script.py HOST:PORT [SCRIPT] [ZKCLI]
Prints `OK`/`FAIL` per session and exits non-zero when an expected line is missing. The Rust test
real_clients.rs reads the same script with the same rules.
"""
import os
import subprocess
import sys
import time

HOSTS = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "zkcli_script.txt")
ZKCLI = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/zookeeper/bin/zkCli.sh"


def sessions(root):
    """[(commands, expectations)] per `--- new session` section, with `@` replaced by root."""
    out = [([], [])]
    for line in open(SCRIPT):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        if line.startswith("--- new session"):
            out.append(([], []))
        elif line.startswith("> "):
            out[-1][1].append(line[2:].replace("@", root))
        else:
            out[-1][0].append(line.replace("@", root))
    return out


def run(commands):
    stdin = "\n".join(commands + ["quit"]) + "\n"
    # One stream, so that errors (stderr) and data (stdout) keep their order.
    proc = subprocess.run([ZKCLI, "-server", HOSTS], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)
    return proc.stdout


def check(output, expected):
    """The first expected line not found in order, or None."""
    pos = 0
    for text in expected:
        found = output.find(text, pos)
        if found < 0:
            return text
        pos = found + len(text)
    return None


def main():
    for attempt in range(3):
        root = "/zkcli-%d-%d" % (os.getpid(), attempt)
        failed = None
        for i, (commands, expected) in enumerate(sessions(root)):
            output = run(commands)
            missing = check(output, expected)
            if missing is not None:
                failed = (i, missing, output)
                break
        if failed is None:
            print("OK zkCli script (%d sessions)" % len(sessions(root)))
            return 0
        if "ConnectionLoss" not in failed[2]:
            break
        time.sleep(1)
    i, missing, output = failed
    print("FAIL zkCli session %d: missing %r in:\n%s" % (i, missing, output))
    return 1


if __name__ == "__main__":
    sys.exit(main())
