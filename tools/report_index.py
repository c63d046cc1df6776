#!/usr/bin/python3
"""The front page of `make run`'s report: one row per built-in backend's
conformance run (out/report/BACKEND/report.json), its verdict counts and a
link to that run's own report (index.html, report.json, junit.xml).

usage: report_index.py OUT_DIR BACKEND [BACKEND...]
Writes OUT_DIR/index.html and OUT_DIR/summary.json; exits 1 when a
backend's report is missing or unreadable (the run before it failed).
"""
import html
import json
import os
import sys

VERDICTS = ["pass", "fail", "warn", "reject", "wedged", "crashed", "skip", "xfail", "xpass"]


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, backends = argv[1], argv[2:]
    rows = []
    for b in backends:
        path = os.path.join(out, b, "report.json")
        try:
            with open(path) as f:
                rep = json.load(f)
        except (OSError, ValueError) as e:
            print(f"report_index: {path}: {e}", file=sys.stderr)
            return 1
        s = rep.get("summary", {})
        rows.append({"backend": rep.get("backend", b), "device": rep.get("device", b), "dir": b,
                     "tests": len(rep.get("tests", [])), **{v: s.get(v, 0) for v in VERDICTS}})
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"backends": rows}, f, indent=1)
        f.write("\n")
    head = "".join(f"<th>{v}</th>" for v in ["backend", "device", "tests"] + VERDICTS)
    body = ""
    for r in rows:
        bad = r["fail"] or r["wedged"] or r["crashed"] or r["xpass"]
        cells = "".join(f"<td>{r[v]}</td>" for v in ["tests"] + VERDICTS)
        link = html.escape(r["dir"]) + "/index.html"
        body += (f"<tr class=\"{'bad' if bad else 'ok'}\"><td><a href=\"{link}\">{html.escape(r['backend'])}</a></td>"
                 f"<td>{html.escape(r['device'])}</td>{cells}</tr>\n")
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>virtio-sim conformance: built-in backends</title>
<style>body{{font-family:sans-serif}} td,th{{padding:2px 8px;text-align:right}} td:first-child{{text-align:left}}
tr.bad{{background:#fdd}} tr.ok{{background:#efe}}</style></head>
<body><h1>virtio-sim conformance: built-in backends</h1>
<p>Each backend ran every applicable suite; its row links to its own report (the failures with the ring state
drawn and the command that reproduces them).</p>
<table><tr>{head}</tr>
{body}</table></body></html>
"""
    with open(os.path.join(out, "index.html"), "w") as f:
        f.write(page)
    for r in rows:
        print(f"{r['backend']:<18} {r['tests']:>6} tests  " + "  ".join(f"{v} {r[v]}" for v in VERDICTS if r[v]))
    print(f"report: {os.path.join(out, 'index.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
