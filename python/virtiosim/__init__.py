"""virtiosim — Python binding of the virtio-sim engine (cffi, API mode).

    import virtiosim
    with virtiosim.Sim.load("scenarios/examples/blk-rw.json", seed=3) as sim:
        ok = sim.run()            # True when every expectation held
        print(hex(sim.trace_hash), sim.violations, sim.failures, sim.repro)

A Sim owns one C `vsim_sim` handle. It is freed by close() (or by leaving the
`with` block) at a point you choose; __del__ frees it too as a fallback. After
close() every method raises ValueError. Sims are independent: the engine has no
global state, so many can live and step in one process.

The compiled part is `virtiosim._native`, built by python/build_ffi.py into
OUT/virtiosim/ (see that script for the layout).
"""
import json as _json
import os as _os
import re as _re
from pkgutil import extend_path as _extend_path

# Lets python/virtiosim (sources) and OUT/virtiosim (copies + _native) both be
# on sys.path in either order: _native is found in whichever holds it.
__path__ = _extend_path(__path__, __name__)

try:
    from ._native import ffi as _ffi, lib as _lib
except ImportError as _e:  # pragma: no cover - depends on the build
    raise ImportError(
        "virtiosim._native is not built: run `make python` (or "
        "/usr/bin/python3 python/build_ffi.py --lib build/libvirtiosim.a --out build/python) "
        "and put build/python on PYTHONPATH (%s)" % _e
    ) from _e

__all__ = ["Sim", "ScenarioError", "SimError", "checks", "check_lookup", "POLICIES"]

POLICIES = {"scripted": 0, "round-robin": 1, "random": 2}
_RINGS = {"split": 0, "packed": 1}
_SEVERITY = {_lib.VSIM_SEV_MUST: "MUST", _lib.VSIM_SEV_SHOULD: "SHOULD"}
_JUDGED = {_lib.VSIM_JUDGED_DRIVER: "driver", _lib.VSIM_JUDGED_DEVICE: "device"}
_OBSERVES = {_lib.VSIM_OBS_SNAPSHOT: "snapshot", _lib.VSIM_OBS_ACCESS: "access"}
_SIDES = {"driver": _lib.VSIM_SIDE_DRIVER, "device": _lib.VSIM_SIDE_DEVICE}
_ERRLEN = 2048

# "FILE:LINE:COL: field 'x.y[2]': message" (FILE may itself contain colons).
_ERR_RE = _re.compile(r"^(?P<file>.*?):(?P<line>\d+):(?P<col>\d+): field '(?P<field>[^']*)': (?P<msg>.*)$",
                      _re.S)


class ScenarioError(Exception):
    """The scenario could not be loaded. str(e) is the loader's message,
    "FILE:LINE:COL: field 'x': what is wrong"; the parts are also attributes
    (file, line, col, field, reason), None when the message has another shape
    (e.g. a build error such as an unimplemented transport)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message
        m = _ERR_RE.match(message)
        self.file = m.group("file") if m else None
        self.line = int(m.group("line")) if m else None
        self.col = int(m.group("col")) if m else None
        self.field = m.group("field") if m else None
        self.reason = m.group("msg") if m else None


class SimError(RuntimeError):
    """The engine reported an internal error while stepping."""


def _str(p):
    return _ffi.string(p).decode("utf-8", "replace") if p != _ffi.NULL else None


def _options(seed, policy, trace, max_steps, checkers, ring):
    """Build a vsim_options; returns (cdata, keepalive list)."""
    opt = _ffi.new("vsim_options *")
    keep = [opt]
    if seed is not None:
        seed = int(seed)
        if not 0 <= seed < 1 << 64:
            raise ValueError("seed must be a u64, got %d" % seed)
        opt.has_seed, opt.seed = True, seed
    if policy is not None:
        if isinstance(policy, str):
            key = policy.replace("_", "-")
            if key not in POLICIES:
                raise ValueError("unknown policy %r (expected one of %s)" % (policy, ", ".join(POLICIES)))
            policy = POLICIES[key]
        if policy not in POLICIES.values():
            raise ValueError("unknown policy %r" % (policy,))
        opt.has_policy, opt.policy = True, policy
    if ring is not None:
        if ring not in _RINGS:
            raise ValueError("unknown ring %r (expected split or packed)" % (ring,))
        opt.has_ring, opt.ring = True, _RINGS[ring]
    if max_steps is not None:
        max_steps = int(max_steps)
        if not 0 < max_steps < 1 << 64:
            raise ValueError("max_steps must be >= 1, got %d" % max_steps)
        opt.has_max_steps, opt.max_steps = True, max_steps
    if trace is not None:
        path = _ffi.new("char[]", _os.fsencode(_os.fspath(trace)))
        keep.append(path)
        opt.trace_path = path
    opt.checkers_off = not checkers
    return opt, keep


class Sim:
    """One simulation. Build it with Sim.load(path) or Sim.from_json(...)."""

    __slots__ = ("_h", "_arena", "__weakref__")

    def __init__(self, handle):
        if handle == _ffi.NULL:
            raise ValueError("Sim needs a live handle; use Sim.load or Sim.from_json")
        self._h = handle
        self._arena = _lib.vsim_sim_arena(handle)

    # ---- construction ----

    @classmethod
    def load(cls, path, seed=None, policy=None, trace=None, max_steps=None, checkers=True, ring=None):
        """Load a scenario file. seed/policy/max_steps/ring override the file's
        values (as the CLI's --seed etc. do); trace is a path for a JSON Lines
        trace; checkers=False runs without observers. Raises ScenarioError."""
        opt, keep = _options(seed, policy, trace, max_steps, checkers, ring)
        err = _ffi.new("char[]", _ERRLEN)
        h = _lib.vsim_sim_load(_os.fsencode(_os.fspath(path)), opt, err, _ERRLEN)
        del keep
        if h == _ffi.NULL:
            raise ScenarioError(_str(err) or "cannot load %s" % (path,))
        return cls(h)

    @classmethod
    def from_json(cls, text_or_dict, name="<memory>", seed=None, policy=None, trace=None, max_steps=None,
                  checkers=True, ring=None):
        """Load a scenario from a JSON string (or bytes) or from a dict (serialised
        with indent=2, so positions in errors are those of that text). `name`
        stands for the file name in error messages and the repro command."""
        if isinstance(text_or_dict, dict):
            data = _json.dumps(text_or_dict, indent=2).encode("utf-8")
        elif isinstance(text_or_dict, str):
            data = text_or_dict.encode("utf-8")
        elif isinstance(text_or_dict, (bytes, bytearray)):
            data = bytes(text_or_dict)
        else:
            raise TypeError("from_json takes a str, bytes or dict, not %s" % type(text_or_dict).__name__)
        opt, keep = _options(seed, policy, trace, max_steps, checkers, ring)
        err = _ffi.new("char[]", _ERRLEN)
        h = _lib.vsim_sim_load_buffer(data, len(data), str(name).encode("utf-8"), opt, err, _ERRLEN)
        del keep
        if h == _ffi.NULL:
            raise ScenarioError(_str(err) or "cannot load %s" % (name,))
        return cls(h)

    # ---- lifecycle ----

    def close(self):
        """Free the C simulation now. Idempotent."""
        h = getattr(self, "_h", None)
        if h is not None:
            self._h = None
            self._arena = None
            _lib.vsim_sim_free(h)

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: module globals may be gone
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def closed(self):
        return self._h is None

    def _handle(self):
        if self._h is None:
            raise ValueError("operation on a closed Sim")
        return self._h

    def __repr__(self):
        if self._h is None:
            return "<virtiosim.Sim closed>"
        return "<virtiosim.Sim %r seed=%d policy=%s steps=%d>" % (self.name, self.seed, self.policy, self.steps)

    # ---- running ----

    def step(self):
        """Run one scheduler step. True when a step ran, False when the run is over."""
        r = _lib.vsim_sim_step(self._handle())
        if r < 0:
            raise SimError("engine error at step %d of %s" % (self.steps, self.name))
        return r == 1

    def run(self):
        """Run to the end and evaluate the scenario's expectations. True when
        every expectation held (see .failures and .violations otherwise).
        Calling it again returns the same answer without running anything."""
        return _lib.vsim_sim_run(self._handle()) == 0

    # ---- results ----

    @property
    def name(self):
        return _str(_lib.vsim_sim_name(self._handle()))

    @property
    def trace_hash(self):
        return int(_lib.vsim_sim_trace_hash(self._handle()))

    @property
    def steps(self):
        return int(_lib.vsim_sim_steps(self._handle()))

    @property
    def seed(self):
        return int(_lib.vsim_sim_seed(self._handle()))

    @property
    def policy(self):
        return _str(_lib.vsim_sim_policy_name(self._handle()))

    @property
    def repro(self):
        """The one-line command that reproduces this run."""
        return _str(_lib.vsim_sim_repro(self._handle()))

    @property
    def violations(self):
        """Spec violations recorded so far, in order: dicts with check (id),
        label, severity ("MUST"/"SHOULD"), step, queue (None when not
        queue-specific) and detail."""
        h = self._handle()
        out = []
        for i in range(_lib.vsim_sim_violation_count(h)):
            v = _lib.vsim_sim_violation(h, i)
            if v == _ffi.NULL:
                break
            info = _lib.vsim_check_info_get(v.check)
            out.append({
                "check": _str(info.id) if info != _ffi.NULL else "#%d" % v.check,
                "label": _str(info.label) if info != _ffi.NULL else None,
                "severity": _SEVERITY.get(info.severity) if info != _ffi.NULL else None,
                "step": int(v.step),
                "queue": None if v.queue < 0 else int(v.queue),
                "detail": _ffi.string(v.detail).decode("utf-8", "replace"),
            })
        return out

    @property
    def failures(self):
        """Expectation failures (the scenario's own expectations), as strings."""
        h = self._handle()
        return [_str(_lib.vsim_sim_failure(h, i)) for i in range(_lib.vsim_sim_failure_count(h))]

    @property
    def counters(self):
        c = _ffi.new("vsim_counters *")
        _lib.vsim_sim_counters(self._handle(), c)
        return {
            "kicks": int(c.kicks),
            "interrupts": int(c.interrupts),
            "config_irqs": int(c.config_irqs),
            "submitted": int(c.submitted),
            "completed": int(c.completed),
            "device_status": int(c.device_status),
            "events": int(c.events),
            "stalled": bool(c.stalled),
            "latency_total": int(c.latency_total),
            "latency_max": int(c.latency_max),
            "clock": int(c.clock),
            "bytes_copied": int(c.bytes_copied),
            "bytes_moved": int(c.bytes_moved),
        }

    # ---- guest memory ----

    @property
    def arena_size(self):
        self._handle()
        return int(_lib.vsim_arena_size(self._arena))

    def read(self, gpa, n, side="driver"):
        """Read n bytes of guest memory at gpa, with `side`'s permissions
        (driver by default). Raises ValueError when the range is outside the
        arena or not readable by that side; such a probe is checked first, so
        it never records a fault or a violation in the run."""
        self._handle()
        gpa, n = int(gpa), int(n)
        if side not in _SIDES:
            raise ValueError("side must be 'driver' or 'device', not %r" % (side,))
        if gpa < 0 or n < 0 or gpa >= 1 << 64 or n >= 1 << 64:
            raise ValueError("gpa and n must be u64 values")
        s = _SIDES[side]
        if not _lib.vsim_arena_check(self._arena, s, gpa, n, _lib.VSIM_ACC_READ):
            raise ValueError("cannot read %d bytes at 0x%x as the %s (arena size 0x%x)"
                             % (n, gpa, side, self.arena_size))
        if n == 0:
            return b""
        buf = _ffi.new("uint8_t[]", n)
        if _lib.vsim_arena_read(self._arena, s, gpa, buf, n) != _lib.VSIM_ARENA_OK:
            raise ValueError("cannot read %d bytes at 0x%x" % (n, gpa))
        return bytes(_ffi.buffer(buf, n))


# ---- the check catalog ----

def _check_dict(info):
    return {
        "id": _str(info.id),
        "label": _str(info.label),
        "severity": _SEVERITY.get(info.severity),
        "judged": _JUDGED.get(info.judged),
        "observes": _OBSERVES.get(info.observes),
        "what": _str(info.what),
    }


def checks():
    """The check catalog, in enum order: dicts with id, label (the spec's
    normative label), severity, judged (driver/device), observes
    (snapshot/access) and what."""
    out = []
    for i in range(_lib.vsim_check_count()):
        info = _lib.vsim_check_info_get(i)
        if info != _ffi.NULL:
            out.append(_check_dict(info))
    return out


def check_lookup(check_id):
    """The catalog entry of one check id, or None when unknown."""
    i = _lib.vsim_check_lookup(check_id.encode("utf-8"))
    if i < 0:
        return None
    info = _lib.vsim_check_info_get(i)
    return _check_dict(info) if info != _ffi.NULL else None
