"""pytest plugin: every scenarios/**/*.json is a test.

Each scenario file under the repository's scenarios/ directory becomes one item,
named by its path relative to scenarios/. Running it loads the file through the
binding (virtiosim.Sim.load) and runs it; the item fails when the scenario
cannot be loaded (the loader's FILE:LINE:COL message) or when run() says an
expectation did not hold (violations with check id and spec label, failures,
and the command that reproduces the run).

How it is invoked:
  cd tests/py && pytest . /work/main/scenarios    (the Makefile: both given)
  cd tests/py && pytest .                          (scenarios are added to the run)
  pytest tests/py/test_binding.py                  (only that file; no scenarios)
  pytest ... --no-scenarios                        (never collect scenarios)

The hooks live in a plugin object registered from pytest_configure rather than
as conftest-level hooks: conftest hooks only apply below the conftest's own
directory, and scenarios/ is not below tests/py.
Needs PYTHONPATH to hold build/python (see python/build_ffi.py).
"""
import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
TESTS_PY = Path(__file__).resolve().parent


def _inside(path, root):
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def pytest_addoption(parser):
    parser.addoption("--no-scenarios", action="store_true", default=False,
                     help="do not collect scenarios/**/*.json as tests")


def pytest_configure(config):
    if config.getoption("--no-scenarios", default=False):
        return
    config.pluginmanager.register(ScenarioPlugin(), "virtiosim-scenarios")
    # `pytest .` from tests/py (the whole Python suite) also runs the scenarios,
    # unless a path argument already covers them.
    args = [Path(os.path.abspath(str(a).split("::")[0])) for a in config.args]
    covered = any(_inside(a, SCENARIOS) or _inside(SCENARIOS, a) for a in args)
    whole_suite = any(a == TESTS_PY for a in args)
    if whole_suite and not covered and SCENARIOS.is_dir():
        config.args.append(str(SCENARIOS))


class ScenarioPlugin:
    def pytest_collect_file(self, file_path, parent):
        p = Path(file_path)
        if p.suffix == ".json" and _inside(p.resolve(), SCENARIOS):
            return ScenarioFile.from_parent(parent, path=p)
        return None


class ScenarioFailed(Exception):
    """run() returned False or the file did not load; args[0] is the report."""


SPLIT_RAW_OPS = {"raw.desc", "raw.avail", "raw.avail_idx", "raw.avail_flags", "raw.used_event",
                 "dev.used_idx", "dev.used_flags", "dev.avail_event"}


def _num(v):
    return int(v, 16) if isinstance(v, str) and v.startswith("0") else v


def writes_split_layout(steps):
    """A step that only has a meaning on the split ring: a raw split op, a
    scripted device's split field, or a dev.used that leaves used.idx alone or
    names a 32-bit id (packed buffer ids are 16 bits)."""
    for st in steps:
        if not isinstance(st, dict):
            continue
        op = st.get("op")
        if op in SPLIT_RAW_OPS:
            return True
        if op == "dev.used":
            i = _num(st.get("id"))
            if st.get("publish") is False or (isinstance(i, int) and i > 0xFFFF):
                return True
    return False


def _other_ring(path):
    """The layout a scenario can also run on, unchanged, or None.

    Scenarios run on both ring layouts (issue 4): one written for the split ring
    runs again with --ring packed, unless it writes the split layout by hand
    (raw.desc, raw.avail, ..., or a scripted device's split fields) or names
    its ring ("ring": "split": what it expects holds on that layout only); a
    packed one stays packed.
    Expected violations are translated by the engine (vsim_check_on_packed)."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    if "ring" not in doc and not writes_split_layout(doc.get("steps", [])):
        return "packed"
    return None


# Device types with a built-in model. A scenario of another type (fs) needs a
# back-end given on the command line: tests/py/test_virtiofsd.py runs the
# fs-smoke scenarios against virtiofsd; here they are skipped, not failed.
BUILTIN_DEVICES = {"blk", "console", "input", "net", "gpu"}


def _device(path):
    try:
        with open(path) as f:
            return json.load(f).get("device")
    except (OSError, ValueError, AttributeError):
        return None


class ScenarioFile(pytest.File):
    def collect(self):
        rel = Path(self.path).resolve().relative_to(SCENARIOS).as_posix()
        dev = _device(self.path)
        if dev is not None and dev not in BUILTIN_DEVICES:
            item = ScenarioItem.from_parent(self, name=rel)
            item.skip_reason = "device '%s' has no built-in model (needs a back-end: see test_virtiofsd.py)" % dev
            yield item
            return
        yield ScenarioItem.from_parent(self, name=rel)
        if _other_ring(self.path) == "packed":
            item = ScenarioItem.from_parent(self, name=rel + "[packed]")
            item.ring = "packed"
            yield item


def _repro(cmd):
    cli = os.environ.get("VSIM_CLI")
    if cli and cmd.startswith("virtio-sim "):
        return cli + cmd[len("virtio-sim"):]
    return cmd


class ScenarioItem(pytest.Item):
    ring = None  # None: as written; "packed": the same scenario on the packed layout
    skip_reason = None  # set: the scenario cannot run in-process

    def runtest(self):
        if self.skip_reason:
            pytest.skip(self.skip_reason)
        import virtiosim  # imported here so that a missing build fails items, not collection

        try:
            sim = virtiosim.Sim.load(str(self.path), ring=self.ring) if self.ring else virtiosim.Sim.load(str(self.path))
        except virtiosim.ScenarioError as e:
            raise ScenarioFailed("scenario does not load:\n  %s" % e) from None
        with sim:
            ok = sim.run()
            if ok:
                return
            lines = ["scenario %s: expectations did not hold (seed %d, policy %s, %d steps, trace hash %016x)"
                     % (sim.name, sim.seed, sim.policy, sim.steps, sim.trace_hash)]
            fails = sim.failures
            if fails:
                lines.append("failures:")
                lines += ["  - %s" % f for f in fails]
            viols = sim.violations
            if viols:
                lines.append("violations (%d):" % len(viols))
                for v in viols[:50]:
                    q = "" if v["queue"] is None else " queue %d" % v["queue"]
                    lines.append("  - %s [%s %s] step %d%s: %s"
                                 % (v["check"], v["severity"], v["label"], v["step"], q, v["detail"]))
                if len(viols) > 50:
                    lines.append("  ... %d more" % (len(viols) - 50))
            c = sim.counters
            lines.append("counters: kicks=%d interrupts=%d submitted=%d completed=%d stalled=%s"
                         % (c["kicks"], c["interrupts"], c["submitted"], c["completed"], c["stalled"]))
            lines.append("reproduce: %s" % _repro(sim.repro))
            raise ScenarioFailed("\n".join(lines))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, "scenario %s" % self.name
