"""The backend plugin ABI, end to end, the way a third-party author meets it.

  (a) `make install PREFIX=tmp` installs the headers, the library, the CLI and
      virtiosim.pc; examples/plugin-blk, copied out of the tree, builds against
      that install with pkg-config alone; the plugin then passes a list of
      well-formed blk scenarios with no violation at all.
  (b) the loader refuses broken plugins with exit status 2 and a message that
      names the plugin and the problem: wrong ABI version, a required op left
      NULL (by name), no entry point, a failing create, a call into the
      engine's internals.
  (c) the installed pkg-config file's cflags compile a file that includes the
      public headers, and its libs link a program that embeds the engine.

The CLI under test is VSIM_CLI (set by the Makefile), else build/virtio-sim.
Every subprocess has a timeout.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI") or str(REPO / "build" / "virtio-sim")
CC = shutil.which("cc") or "gcc"
BUILD_TIMEOUT = 600  # `make install` may have to build the library first
TOOL_TIMEOUT = 120
RUN_TIMEOUT = 60
PROBE = REPO / "scenarios" / "blk" / "raw-in-out-ok.json"

# Well-formed blk scenarios that need nothing beyond what plugin-blk offers
# (split ring, INDIRECT_DESC, EVENT_IDX, FLUSH, MQ; IN/OUT/FLUSH/GET_ID) and
# expect no violation. Left out, and why: scenarios that need DISCARD,
# WRITE_ZEROES, RO, RING_RESET, NOTIFICATION_DATA or the packed ring; ones that
# expect the built-in model's own serial or device_config keys; ones that use
# fault.needs_reset (built-in models only); and malformed/ (the ring
# validation that reports the driver's mistakes is the built-in models').
PLUGIN_SCENARIOS = [
    # round trips, sizes, multi-segment and indirect chains
    "blk/raw-in-out-ok.json",
    "blk/read-unwritten-zero.json",
    "blk/read-write-sizes.json",
    "blk/read-write-sizes-q8.json",
    "blk/large-write-1mib.json",
    "blk/large-write-direct.json",
    "blk/large-write-direct-q32.json",
    "blk/large-write-indirect.json",
    "blk/large-write-indirect-q8.json",
    "blk/raw-indirect-chain.json",
    # flush, get-id, unsupported types
    "blk/flush-ok.json",
    "blk/flush-not-negotiated.json",
    "blk/get-id-custom-serial.json",
    "blk/unknown-type.json",
    "blk/discard-not-negotiated.json",
    "blk/write-zeroes-not-negotiated.json",
    # queues
    "blk/multiqueue.json",
    "blk/multiqueue-no-mq-accepted.json",
    # ring wrap and notification suppression, both ways
    "notify/ring-wrap-300-scripted.json",
    "notify/ring-wrap-300-round-robin.json",
    "notify/ring-wrap-300-random.json",
    "notify/event-idx-on.json",
    "notify/event-idx-off.json",
    "notify/event-idx-not-offered.json",
    "notify/avail-flags-poll.json",
    "notify/used-event-far.json",
    "notify/driver-poll-event-idx.json",
    "notify/driver-poll-flags.json",
    "notify/delayed-irq.json",
    "notify/device-batch.json",
    "notify/random-interleave.json",
    "notify/scripted-counts.json",
    # negotiation and reset
    "negotiation/accept-no-event-idx.json",
    "negotiation/accept-no-indirect.json",
    "negotiation/offer-minimal.json",
    "negotiation/refuse-features-ok.json",
    "negotiation/refuse-unaccepted-feature.json",
    "negotiation/double-init.json",
    "negotiation/reset-reinit-mid-traffic.json",
    "negotiation/reset-without-reinit.json",
]


def _build_env(**extra):
    """Environment for make, cc and pkg-config. Without the outer make's
    variables (under `make test-asan` the environment carries BUILD=build/asan
    and the sanitizer flags, which must not reach `make install`: it installs
    the plain build), without the sanitizer preloads that run is given for the
    CLI, and without any search path that could let a build find headers
    other than the installed ones."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "BUILD", "OPT", "EXTRA_CFLAGS",
              "LDFLAGS_EXTRA", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PKG_CONFIG_PATH",
              "CPATH", "C_INCLUDE_PATH", "LIBRARY_PATH"):
        env.pop(k, None)
    env.update(extra)
    return env


def _run(cmd, timeout, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)


def _abi_version():
    text = (REPO / "include" / "virtiosim" / "backend.h").read_text()
    return int(re.search(r"#define VSIM_BACKEND_ABI_VERSION (\d+)", text).group(1))


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """A fresh `make install PREFIX=...` of this tree."""
    root = tmp_path_factory.mktemp("install")
    r = _run(["make", "-C", REPO, "--no-print-directory", "install", "PREFIX=%s" % root],
             BUILD_TIMEOUT, env=_build_env())
    assert r.returncode == 0, "make install failed:\n" + r.stdout + r.stderr
    return root


@pytest.fixture(scope="module")
def pc_env(prefix):
    return _build_env(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))


@pytest.fixture(scope="module")
def plugin(prefix, tmp_path_factory):
    """examples/plugin-blk built out of the tree, against the install only."""
    src = tmp_path_factory.mktemp("third-party") / "plugin-blk"
    shutil.copytree(REPO / "examples" / "plugin-blk", src,
                    ignore=shutil.ignore_patterns("*.so", "*.o"))
    r = _run(["make", "--no-print-directory",
              "PKG_CONFIG_PATH=%s" % (prefix / "lib" / "pkgconfig")], BUILD_TIMEOUT, cwd=src,
             env=_build_env())
    assert r.returncode == 0, "building examples/plugin-blk failed:\n" + r.stdout + r.stderr
    assert "-I%s/include" % prefix in r.stdout, "not compiled against the install:\n" + r.stdout
    assert str(REPO) not in r.stdout, "the build reached into the source tree:\n" + r.stdout
    lib = src / "libplugin-blk.so"
    assert lib.is_file()
    return lib


# ---- (a) install, build out of tree, run ------------------------------------------------------

def test_install_layout(prefix):
    for name in ("arena.h", "backend.h", "virtiosim.h", "checks.h", "check_list.h", "mutants.h"):
        assert (prefix / "include" / "virtiosim" / name).is_file(), name
    for rel in ("lib/libvirtiosim.a", "lib/libvirtiosim.so", "lib/pkgconfig/virtiosim.pc"):
        assert (prefix / rel).is_file(), rel
    assert os.access(prefix / "bin" / "virtio-sim", os.X_OK)


def test_install_honours_destdir(tmp_path):
    stage = tmp_path / "stage"
    r = _run(["make", "-C", REPO, "--no-print-directory", "install", "PREFIX=/opt/vsim",
              "DESTDIR=%s" % stage], BUILD_TIMEOUT, env=_build_env())
    assert r.returncode == 0, r.stdout + r.stderr
    pc = (stage / "opt/vsim/lib/pkgconfig/virtiosim.pc").read_text()
    assert "prefix=/opt/vsim" in pc and str(stage) not in pc  # the .pc names the final place
    assert (stage / "opt/vsim/include/virtiosim/backend.h").is_file()


def test_examples_include_only_public_headers():
    for src in (REPO / "examples").rglob("*.c"):
        for inc in re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', src.read_text(), re.M):
            assert inc.startswith("<"), "%s includes %s: a plugin sees only installed headers" % (src, inc)
            name = inc[1:-1]
            assert not name.startswith("virtiosim/") or (REPO / "include" / name).is_file(), (src, inc)


@pytest.mark.parametrize("scenario", PLUGIN_SCENARIOS)
def test_plugin_blk_passes(plugin, scenario):
    r = _run([CLI, "run", REPO / "scenarios" / scenario, "--backend", "plugin:%s" % plugin, "--json"],
             RUN_TIMEOUT)
    assert r.returncode == 0, "exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr)
    doc = json.loads(r.stdout)
    # the violations the scenario expects of the built-in model, no other
    # (the refusal scenarios' refuse_features knob, which the plugin honours,
    # is the device's own feat.dev-accept-subset warning)
    expected = set(json.loads((REPO / "scenarios" / scenario).read_text()).get("expect", {}).get("violations", []))
    assert doc["result"] == "pass" and doc["failures"] == [], doc
    assert {v["check"] for v in doc["violations"]} == expected, doc
    assert "--backend 'plugin:%s'" % plugin in doc["repro"]  # the repro command names the plugin


def test_plugin_blk_runs_under_the_installed_cli(prefix, plugin):
    """The installed CLI exports the plugin API too (not only the build tree's)."""
    r = _run([prefix / "bin" / "virtio-sim", "run", PROBE, "--backend", "plugin:%s" % plugin,
              "--quiet"], RUN_TIMEOUT, env=_build_env())
    assert r.returncode == 0, r.stdout + r.stderr


def test_conformance_suites_pass_on_the_plugin(prefix, plugin, tmp_path):
    """The installed CLI runs every applicable suite against the out-of-tree
    plugin: nothing fails; what the plugin does not offer (packed ring,
    DISCARD, ...) or cannot be configured for is skipped with the reason."""
    # a generous per-test bound: under the sanitizer pass on a loaded machine
    # an adversarial walk of 2^20 descriptors can take over the default 60 s
    # of wall-clock time, and `wedged` would then say nothing about the plugin
    # the whole matrix, one random seed per configuration; the sanitizer pass
    # (every test ~10x slower) runs the scenarios as written
    scope = ["--matrix", "native"] if SANITIZED else ["--seeds", "1"]
    r = _run([prefix / "bin" / "virtio-sim", "conform", "--backend", "plugin:%s" % plugin, "--device", "blk",
              *scope, "--timeout", "300", "--quiet", "--report", tmp_path / "report"], 900, env=_build_env(),
             cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rep = json.loads((tmp_path / "report" / "report.json").read_text())
    v = {}
    for t in rep["tests"]:
        v[t["verdict"]] = v.get(t["verdict"], 0) + 1
    least = 40 if SANITIZED else 100
    assert v.get("pass", 0) > least and v.get("reject", 0) > least and v.get("skip", 0) > 0, v
    assert not {"fail", "wedged", "crashed"} & set(v), v
    skips = {t["reason"] for t in rep["tests"] if t["verdict"] == "skip"}
    assert "needs RING_PACKED, which the device does not offer" in skips


def test_cli_exports_every_arena_function():
    """Each function of arena.h is in the CLI's dynamic symbol table, so a
    plugin's calls to them resolve at dlopen()."""
    declared = set(re.findall(r"\b(vsim_arena_\w+)\s*\(",
                              (REPO / "include" / "virtiosim" / "arena.h").read_text()))
    assert len(declared) >= 10
    r = _run(["nm", "-D", "--defined-only", CLI], TOOL_TIMEOUT, env=_build_env())
    assert r.returncode == 0, r.stderr
    exported = {line.split()[-1] for line in r.stdout.splitlines() if line.strip()}
    assert declared <= exported, "not exported: %s" % sorted(declared - exported)
    # and nothing of the engine's internals
    assert not [s for s in exported if s.startswith("vsim_") and not s.startswith("vsim_arena_")]


# ---- (b) the loader's errors --------------------------------------------------------------------

BAD_PLUGIN = r"""
#include <stddef.h>
#include <virtiosim/backend.h>

static void destroy(void *be) { (void)be; }
static uint32_t device_id(void *be) { (void)be; return 2; }
static uint32_t vendor_id(void *be) { (void)be; return 0; }
static uint16_t num_queues(void *be) { (void)be; return 1; }
static uint16_t queue_max_size(void *be, uint16_t q) { (void)be; (void)q; return 8; }
static uint64_t device_features(void *be) { (void)be; return 0; }
static void set_driver_features(void *be, uint64_t f) { (void)be; (void)f; }
static uint8_t get_status(void *be) { (void)be; return 0; }
static void set_status(void *be, uint8_t s) { (void)be; (void)s; }
static uint32_t config_generation(void *be) { (void)be; return 0; }
static uint32_t config_size(void *be) { (void)be; return 0; }
static int config_read(void *be, uint32_t o, void *d, uint32_t n) { (void)be; (void)o; (void)d; (void)n; return -1; }
static int config_write(void *be, uint32_t o, const void *s, uint32_t n) { (void)be; (void)o; (void)s; (void)n; return -1; }
static int queue_ready(void *be, uint16_t q, const vsim_queue_cfg *c) { (void)be; (void)q; (void)c; return -1; }
static void queue_notify(void *be, uint16_t q, uint32_t v) { (void)be; (void)q; (void)v; }
static bool queue_runnable(void *be, uint16_t q) { (void)be; (void)q; return false; }
static int queue_run(void *be, uint16_t q, uint32_t b) { (void)be; (void)q; (void)b; return 0; }

static const vsim_backend_ops ops = {
    .abi_version = ABI, .name = "bad-plugin", .destroy = destroy,
    .device_id = device_id, .vendor_id = vendor_id, .num_queues = num_queues,
    .queue_max_size = queue_max_size, .device_features = device_features,
    .set_driver_features = set_driver_features, .get_status = get_status,
    .set_status = set_status, .config_generation = config_generation,
    .config_size = config_size, .config_read = config_read, .config_write = config_write,
    .queue_ready = queue_ready, .queue_notify = queue_notify,
    .queue_runnable = queue_runnable, .queue_run = QUEUE_RUN,
};

#ifdef CALL_INTERNAL
int vsim_devcore_has(const void *dc, unsigned bit); /* engine-internal, not exported */
#endif

#ifdef NO_ENTRY
int vsim_plugin_create_misspelt(const vsim_backend_params *p, vsim_backend *out, char *err, unsigned n);
int vsim_plugin_create_misspelt(const vsim_backend_params *p, vsim_backend *out, char *err, unsigned n)
#else
int vsim_plugin_create(const vsim_backend_params *p, vsim_backend *out, char *err, unsigned n)
#endif
{
  (void)p;
#ifdef CALL_INTERNAL
  if (vsim_devcore_has(NULL, 99)) return -1;
#endif
#ifdef CREATE_FAILS
  snprintf(err, n, "no disk image configured");
  return -1;
#endif
  (void)err; (void)n;
  out->ops = &ops;
  out->be = NULL;
  return 0;
}
"""


def _bad_plugin(tmp_path, prefix, name, *defines):
    src = tmp_path / "bad.c"
    src.write_text("#include <stdio.h>\n" + BAD_PLUGIN)
    lib = tmp_path / ("lib%s.so" % name)
    defs = ["-DABI=%d" % _abi_version(), "-DQUEUE_RUN=queue_run"]
    for d in defines:  # later -D of the same name wins: drop the default
        defs = [x for x in defs if not x.startswith(d.split("=")[0] + "=")] + [d]
    r = _run([CC, "-std=c11", "-fPIC", "-shared", "-w", "-I%s" % (prefix / "include"), *defs,
              "-o", lib, src], TOOL_TIMEOUT, env=_build_env())
    assert r.returncode == 0, r.stderr
    return lib


def _load(lib):
    return _run([CLI, "run", PROBE, "--backend", "plugin:%s" % lib], RUN_TIMEOUT)


def test_loader_rejects_wrong_abi_version(tmp_path, prefix):
    abi = _abi_version()
    lib = _bad_plugin(tmp_path, prefix, "wrong-abi", "-DABI=%d" % (abi + 41))
    r = _load(lib)
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(lib) in r.stderr
    assert "ABI version %d" % (abi + 41) in r.stderr and "expects ABI version %d" % abi in r.stderr, r.stderr


def test_loader_names_the_missing_op(tmp_path, prefix):
    lib = _bad_plugin(tmp_path, prefix, "null-op", "-DQUEUE_RUN=NULL")
    r = _load(lib)
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(lib) in r.stderr and "bad-plugin" in r.stderr
    assert re.search(r"lacks required op\(s\): queue_run\b", r.stderr), r.stderr


def test_loader_rejects_missing_entry_point(tmp_path, prefix):
    lib = _bad_plugin(tmp_path, prefix, "no-entry", "-DNO_ENTRY")
    r = _load(lib)
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(lib) in r.stderr and "does not export the entry point vsim_plugin_create" in r.stderr, r.stderr


def test_loader_reports_create_failure(tmp_path, prefix):
    lib = _bad_plugin(tmp_path, prefix, "create-fails", "-DCREATE_FAILS")
    r = _load(lib)
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(lib) in r.stderr and "no disk image configured" in r.stderr, r.stderr


def test_loader_hides_engine_internals(tmp_path, prefix):
    """A plugin that calls into the engine beyond the public API does not load."""
    lib = _bad_plugin(tmp_path, prefix, "internal", "-DCALL_INTERNAL")
    r = _load(lib)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "undefined symbol: vsim_devcore_has" in r.stderr, r.stderr
    assert "may call only the functions of <virtiosim/arena.h>" in r.stderr, r.stderr


def test_loader_reports_missing_file(tmp_path):
    missing = tmp_path / "nope.so"
    r = _load(missing)
    assert r.returncode == 2 and "cannot load plugin %s" % missing in r.stderr, r.stderr


# ---- (c) pkg-config -----------------------------------------------------------------------------

def _pkg_config(pc_env, *args):
    r = _run(["pkg-config", *args, "virtiosim"], TOOL_TIMEOUT, env=pc_env)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_pkg_config_cflags_compile_the_public_headers(prefix, pc_env, tmp_path):
    cflags = _pkg_config(pc_env, "--cflags")
    assert "-I%s" % (prefix / "include") in cflags
    src = tmp_path / "uses_headers.c"
    src.write_text("#include <virtiosim/backend.h>\n#include <virtiosim/virtiosim.h>\n"
                   "int abi(void);\nint abi(void) { return VSIM_BACKEND_ABI_VERSION; }\n")
    r = _run([CC, "-std=c11", "-Wall", "-Wextra", "-Werror", *cflags, "-c", src, "-o",
              tmp_path / "uses_headers.o"], TOOL_TIMEOUT, env=pc_env)
    assert r.returncode == 0, r.stderr


def test_pkg_config_libs_link_an_embedding_program(prefix, pc_env, tmp_path):
    """--libs is for programs that embed the engine (not for plugins)."""
    src = tmp_path / "embed.c"
    src.write_text("#include <virtiosim/arena.h>\n"
                   "int main(void) {\n"
                   "  vsim_arena *a = vsim_arena_new(65536);\n"
                   "  uint16_t v = 0;\n"
                   "  int ok = a && !vsim_arena_write16(a, VSIM_SIDE_DRIVER, 8, 0x1234) &&\n"
                   "           !vsim_arena_read16(a, VSIM_SIDE_DEVICE, 8, &v) && v == 0x1234;\n"
                   "  vsim_arena_free(a);\n"
                   "  return ok ? 0 : 1;\n"
                   "}\n")
    exe = tmp_path / "embed"
    r = _run([CC, "-std=c11", *_pkg_config(pc_env, "--cflags"), "-o", exe, src,
              *_pkg_config(pc_env, "--libs", "--static")], TOOL_TIMEOUT, env=pc_env)
    assert r.returncode == 0, r.stderr
    r = _run([exe], TOOL_TIMEOUT, env=_build_env(LD_LIBRARY_PATH=str(prefix / "lib")))
    assert r.returncode == 0, r.stdout + r.stderr


# A hostile virtio-input device: every select answers size 200, past the
# 128-byte union of virtio_input_config.
HOSTILE_INPUT = r"""
#include <stdlib.h>
#include <string.h>
#include "virtiosim/backend.h"
typedef struct { uint8_t status; uint8_t cfg[136]; } dev;
static void destroy(void *be) { free(be); }
static uint32_t device_id(void *be) { (void)be; return 18; }
static uint32_t vendor_id(void *be) { (void)be; return 0; }
static uint16_t num_queues(void *be) { (void)be; return 2; }
static uint16_t queue_max_size(void *be, uint16_t q) { (void)be; return q < 2 ? 64 : 0; }
static uint64_t device_features(void *be) { (void)be; return 1ull << 32; }
static void set_driver_features(void *be, uint64_t f) { (void)be; (void)f; }
static uint8_t get_status(void *be) { return ((dev *)be)->status; }
static void set_status(void *be, uint8_t s) { ((dev *)be)->status = s; }
static uint32_t config_generation(void *be) { (void)be; return 0; }
static uint32_t config_size(void *be) { (void)be; return 136; }
static int config_read(void *be, uint32_t o, void *d, uint32_t n) {
  dev *v = be;
  if (o > 136 || n > 136 - o) return -1;
  v->cfg[2] = 200;
  memcpy(d, v->cfg + o, n);
  return 0;
}
static int config_write(void *be, uint32_t o, const void *s, uint32_t n) {
  dev *v = be;
  if (o > 136 || n > 136 - o) return -1;
  memcpy(v->cfg + o, s, n);
  return 0;
}
static int queue_ready(void *be, uint16_t q, const vsim_queue_cfg *c) { (void)be; (void)q; (void)c; return 0; }
static void queue_notify(void *be, uint16_t q, uint32_t v) { (void)be; (void)q; (void)v; }
static bool queue_runnable(void *be, uint16_t q) { (void)be; (void)q; return false; }
static int queue_run(void *be, uint16_t q, uint32_t b) { (void)be; (void)q; (void)b; return 0; }
static const vsim_backend_ops ops = {
    .abi_version = VSIM_BACKEND_ABI_VERSION, .name = "hostile-input", .destroy = destroy,
    .device_id = device_id, .vendor_id = vendor_id, .num_queues = num_queues,
    .queue_max_size = queue_max_size, .device_features = device_features,
    .set_driver_features = set_driver_features, .get_status = get_status, .set_status = set_status,
    .config_generation = config_generation, .config_size = config_size, .config_read = config_read,
    .config_write = config_write, .queue_ready = queue_ready, .queue_notify = queue_notify,
    .queue_runnable = queue_runnable, .queue_run = queue_run,
};
int vsim_plugin_create(const vsim_backend_params *p, vsim_backend *out, char *err, unsigned n) {
  (void)p; (void)err; (void)n;
  out->ops = &ops;
  out->be = calloc(1, sizeof(dev));
  return out->be ? 0 : -1;
}
"""


def test_an_input_device_answering_past_the_union_is_a_failure_not_an_overflow(tmp_path, prefix):
    """The input driver model reads a query's answer into the 128-byte union:
    a device whose size says more is the device's nonsense, reported as a
    failure; the driver reads no further (under the sanitizer pass this is an
    out-of-bounds write if it did)."""
    src = tmp_path / "hostile.c"
    src.write_text(HOSTILE_INPUT)
    lib = tmp_path / "libhostile-input.so"
    r = _run([CC, "-std=c11", "-fPIC", "-shared", "-w", "-I%s" % (prefix / "include"), "-o", lib, src],
             TOOL_TIMEOUT, env=_build_env())
    assert r.returncode == 0, r.stderr
    scen = tmp_path / "input.json"
    scen.write_text(json.dumps({"name": "hostile-input", "device": "input", "queue_size": 16,
                                "steps": [{"op": "init"}]}))
    r = _run([CLI, "run", scen, "--backend", "plugin:%s" % lib], RUN_TIMEOUT)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "past the 128-byte union" in r.stdout, r.stdout
