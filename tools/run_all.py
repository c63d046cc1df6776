#!/usr/bin/python3
"""Run every scenario under a directory with the virtio-sim CLI and write a summary.

Used by `make run`: writes OUT/summary.json (one record per scenario, as printed
by `virtio-sim run --json`) and OUT/summary.txt (a readable table). Exits 1 when
any scenario's expectations did not hold, 2 when one could not be loaded.
"""
import argparse
import json
import os
import subprocess
import sys


def scenario_files(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".json"):
                found.append(os.path.join(dirpath, name))
    return found


# Device types with a built-in model; scenarios of another type (fs) need a
# back-end given on the command line, and are listed as skipped.
BUILTIN_DEVICES = {"blk", "console", "input", "net", "gpu"}


def scenario_device(path):
    try:
        with open(path) as f:
            return json.load(f).get("device")
    except (OSError, ValueError, AttributeError):
        return None  # the run reports what is wrong with it


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("roots", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    records, worst = [], 0
    for root in args.roots:
        for path in scenario_files(root):
            dev = scenario_device(path)
            if dev not in BUILTIN_DEVICES:
                records.append({"scenario": path, "result": "skip",
                                "reason": f"device '{dev}' has no built-in model (needs --backend)"})
                continue
            proc = subprocess.run([args.cli, "run", path, "--json"], capture_output=True,
                                  text=True, timeout=300)
            if proc.returncode == 2 or not proc.stdout.strip():
                records.append({"scenario": path, "result": "error",
                                "error": proc.stderr.strip()})
                worst = max(worst, 2)
                continue
            rec = json.loads(proc.stdout)
            records.append(rec)
            if proc.returncode != 0:
                worst = max(worst, 1)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump({"scenarios": records,
                   "passed": sum(r["result"] == "pass" for r in records),
                   "skipped": sum(r["result"] == "skip" for r in records),
                   "failed": sum(r["result"] not in ("pass", "skip") for r in records)}, f, indent=1)
    lines = []
    for r in records:
        if r["result"] == "skip":
            lines.append(f"SKIP  {r['scenario']}: {r['reason']}")
            continue
        if r["result"] == "error":
            lines.append(f"ERROR {r['scenario']}: {r['error']}")
            continue
        viol = ",".join(sorted({v["check"] for v in r["violations"]})) or "-"
        lines.append(f"{r['result'].upper():5} {r['scenario']:60} steps={r['steps']:<6} "
                     f"kicks={r['kicks']:<5} irqs={r['interrupts']:<5} done={r['completed']:<5} "
                     f"hash={r['trace_hash']} violations={viol}")
        for fl in r["failures"]:
            lines.append(f"      {fl}")
    passed = sum(r["result"] == "pass" for r in records)
    skipped = sum(r["result"] == "skip" for r in records)
    lines.append(f"{passed}/{len(records) - skipped} scenarios passed" + (f", {skipped} skipped" if skipped else ""))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    print(f"summary written to {args.out}/summary.json and {args.out}/summary.txt")
    return worst


if __name__ == "__main__":
    sys.exit(main())
