#!/usr/bin/python3
"""Prove determinism: the same scenario and seed give byte-identical traces with
every given build (gcc/clang, -O0/-O2; the first build twice), each scenario as
written and under one other policy/seed/ring in turn (--all-configs: all of them).

usage: determinism.py [--jobs N] [--all-configs] CLI [CLI...] -- SCENARIO_DIR [...]
Exits 1 on the first difference, naming the scenario, seed, policy and builds.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

POLICIES = [("scripted", 1, "split"), ("round-robin", 1, "split"), ("random", 1, "split"),
            ("random", 7, "split"), ("random", 3, "packed")]
# Each scenario runs as written (the first configuration) and in one of the
# others, taken in turn along the sorted scenario list, so that every build
# runs every scenario and every configuration runs on a fifth of them;
# --all-configs: every scenario in every configuration (five times the runs).
PER_SCENARIO = 2
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
BUILTIN_DEVICES = {"blk", "console", "input", "net", "gpu"}


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
    # a build that refused the scenario (exit 2) wrote no trace: its answer
    # is the message, which differs from a build that ran it
    try:
        with open(trace, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        os.unlink(trace)
    except FileNotFoundError:
        digest = "no trace: " + proc.stderr.strip()
    return proc.returncode, proc.stdout, digest


def compare(clis, path, policy, seed, ring, trace):
    """Run one scenario/configuration with every build (the first twice:
    run-to-run); None when all agree, else the message naming the difference,
    plus the number of runs compared."""
    ref = None
    compared = 0
    for n, cli in enumerate(clis):
        for rep in range(2 if n == 0 else 1):
            got = run(cli, path, policy, seed, ring, trace)
            if ref is None:
                ref = (cli, got)
            elif got != ref[1]:
                return (f"NONDETERMINISTIC: {path} policy={policy} seed={seed} ring={ring}: "
                        f"{ref[0]} vs {cli} (run {rep + 1})"), compared
            compared += 1
    return None, compared


def main(argv):
    jobs = os.cpu_count() or 1
    all_configs = False
    while len(argv) > 1 and argv[1].startswith("--") and argv[1] != "--":
        if argv[1] == "--jobs" and len(argv) > 2:
            jobs = max(1, int(argv[2]))
            argv = argv[:1] + argv[3:]
        elif argv[1] == "--all-configs":
            all_configs = True
            argv = argv[:1] + argv[2:]
        else:
            print(__doc__, file=sys.stderr)
            return 2
    sep = argv.index("--")
    clis, roots = argv[1:sep], argv[sep + 1:]
    scen = files(roots)
    work = []
    for k, path in enumerate(scen):
        # as written, then the k-th of the others in turn (one the scenario
        # can run in: a split layout written by hand stays on the split ring)
        mine = [c for c in POLICIES if c[2] != "packed" or packed_ok(path)]
        if not all_configs:
            rest = mine[1:]
            mine = mine[:1] + ([rest[k % len(rest)]] if rest else [])
        work += [(path, policy, seed, ring) for policy, seed, ring in mine]
    compared = 0
    # The builds run as separate processes, so the configurations are checked
    # in parallel (each with its own trace file); the first difference in the
    # fixed work order is the one reported, whatever finished first.
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = [pool.submit(compare, clis, path, policy, seed, ring, os.path.join(tmp, "t%d.jsonl" % i))
                for i, (path, policy, seed, ring) in enumerate(work)]
        for fut in futs:
            msg, n = fut.result()
            if msg:
                print(msg)
                for f in futs:
                    f.cancel()
                return 1
            compared += n
    per = len(POLICIES) if all_configs else PER_SCENARIO
    print(f"determinism: {len(scen)} scenarios x {per} of {len(POLICIES)} policy/seed/ring configurations x "
          f"{len(clis)} builds (the first twice): {compared} runs, identical traces and reports")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
