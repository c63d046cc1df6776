#!/usr/bin/python3
"""Prove determinism: the same scenario and seed give byte-identical traces with
every given build (gcc/clang, -O0/-O2; the first build twice), under every policy.

usage: determinism.py CLI [CLI...] -- SCENARIO_DIR [...]
Exits 1 on the first difference, naming the scenario, seed, policy and builds.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

POLICIES = [("scripted", 1, "split"), ("round-robin", 1, "split"), ("random", 1, "split"),
            ("random", 7, "split"), ("random", 3, "packed")]
SPLIT_RAW_OPS = {"raw.desc", "raw.avail", "raw.avail_idx", "raw.avail_flags", "raw.used_event",
                 "dev.used_idx", "dev.used_flags", "dev.avail_event"}


def _num(v):
    return int(v, 16) if isinstance(v, str) and v.startswith("0") else v


def packed_ok(path):
    """Can this scenario also run with --ring packed (no hand-written split
    layout: raw split ops, a scripted device's split fields, a dev.used that
    leaves used.idx alone or names a 32-bit id)?"""
    with open(path) as f:
        doc = json.load(f)
    for st in doc.get("steps", []):
        op = st.get("op")
        if op in SPLIT_RAW_OPS:
            return False
        i = _num(st.get("id"))
        if op == "dev.used" and (st.get("publish") is False or (isinstance(i, int) and i > 0xFFFF)):
            return False
    return True


# Device types with a built-in model: a scenario of another type (fs) needs
# an out-of-process back-end, whose timing is not ours to prove deterministic.
BUILTIN_DEVICES = {"blk", "net"}


def builtin(path):
    with open(path) as f:
        return json.load(f).get("device") in BUILTIN_DEVICES


def files(roots):
    out = []
    for root in roots:
        for dirpath, dirnames, names in os.walk(root):
            dirnames.sort()
            out += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".json")]
    return [p for p in out if builtin(p)]


def run(cli, path, policy, seed, ring, trace):
    proc = subprocess.run([cli, "run", path, "--policy", policy, "--seed", str(seed),
                           "--ring", ring, "--trace", trace, "--json"], capture_output=True,
                          text=True, timeout=300)
    with open(trace, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return proc.returncode, proc.stdout, digest


def main(argv):
    sep = argv.index("--")
    clis, roots = argv[1:sep], argv[sep + 1:]
    scen = files(roots)
    compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "t.jsonl")
        for path in scen:
            for policy, seed, ring in POLICIES:
                if ring == "packed" and not packed_ok(path):
                    continue
                ref = None
                for n, cli in enumerate(clis):
                    # the first build twice (run-to-run), every other build once
                    for rep in range(2 if n == 0 else 1):
                        got = run(cli, path, policy, seed, ring, trace)
                        if ref is None:
                            ref = (cli, got)
                        elif got != ref[1]:
                            print(f"NONDETERMINISTIC: {path} policy={policy} seed={seed} ring={ring}: "
                                  f"{ref[0]} vs {cli} (run {rep + 1})")
                            return 1
                        compared += 1
    print(f"determinism: {len(scen)} scenarios x {len(POLICIES)} policy/seed/ring configurations x "
          f"{len(clis)} builds (the first twice): {compared} runs, identical traces and reports")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
