"""The examples in scenarios/README.md run, and their expectations hold.

The format reference shows scenarios as ```json blocks; a reader copies them,
so each one that is a whole scenario must load and pass as written.
"""
import os
import re

import virtiosim

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def examples():
    with open(os.path.join(ROOT, "scenarios", "README.md")) as f:
        text = f.read()
    return [b for b in re.findall(r"```json\n(.*?)```", text, re.S) if '"steps"' in b]


def test_readme_has_examples():
    assert len(examples()) >= 3


def test_every_readme_example_runs():
    for i, block in enumerate(examples()):
        if '"device": "fs"' in block:
            continue  # no built-in model: test_virtiofsd.py runs it against virtiofsd
        with virtiosim.Sim.from_json(block, name="README.md#%d" % i) as sim:
            ok = sim.run()
            assert ok, "README example %d (%s) failed: %s %s" % (
                i, sim.name, sim.failures, [v["check"] for v in sim.violations])
