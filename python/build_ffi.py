#!/usr/bin/python3
"""Build the cffi extension `virtiosim._native` (API mode, out of line).

usage: /usr/bin/python3 python/build_ffi.py --lib build/libvirtiosim.a --out build/python

Layout decision: OUT alone is a complete, importable package.
  OUT/virtiosim/__init__.py ...   copies of python/virtiosim/*.py (synced on every run)
  OUT/virtiosim/_native*.so       the compiled extension (links libvirtiosim.a statically)
  OUT/_ffi_build/                 cffi's generated C source, objects and a build stamp
so `PYTHONPATH=OUT` is enough. `PYTHONPATH=OUT:python` (what the Makefile sets)
also works: whichever `virtiosim` comes first is used, and python/virtiosim
extends its __path__ (pkgutil.extend_path) so that it still finds _native in OUT.
Edits to python/virtiosim/*.py reach OUT on the next `make python`.

The build is deterministic (generated C depends only on the cdef and the header)
and idempotent: a stamp over the generated C source, the public headers, the
static library and this script skips compiling when nothing changed.

Needs (Debian bookworm): python3-cffi, python3-dev (Python.h, distutils),
libjansson-dev, a C compiler. Run it with /usr/bin/python3.
"""
import argparse
import contextlib
import hashlib
import io
import os
import shutil
import sys
import sysconfig

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
INCLUDE = os.path.join(REPO, "include")
PKG_SRC = os.path.join(HERE, "virtiosim")
MODULE = "virtiosim._native"

# The public API as the binding sees it. Structs end with `...;` and the array
# length with `[...]` so that the C compiler, not this text, decides the layout;
# cffi verifies every declaration against the real header when compiling.
CDEF = r"""
/* ---- virtiosim/arena.h ---- */
typedef struct vsim_arena vsim_arena;
enum vsim_side { VSIM_SIDE_DRIVER = 0, VSIM_SIDE_DEVICE = 1 };
enum vsim_access { VSIM_ACC_READ = 1, VSIM_ACC_WRITE = 2, VSIM_ACC_RW = 3 };
#define VSIM_ARENA_OK ...
#define VSIM_ARENA_EFAULT ...
uint64_t vsim_arena_size(const vsim_arena *a);
bool vsim_arena_check(const vsim_arena *a, enum vsim_side side, uint64_t gpa,
                      uint64_t len, unsigned access);
int vsim_arena_read(vsim_arena *a, enum vsim_side side, uint64_t gpa, void *dst,
                    uint64_t len);
uint64_t vsim_arena_fault_count(const vsim_arena *a);

/* ---- virtiosim/checks.h ---- */
enum vsim_severity { VSIM_SEV_MUST = 0, VSIM_SEV_SHOULD = 1 };
enum vsim_judged { VSIM_JUDGED_DRIVER = 0, VSIM_JUDGED_DEVICE = 1 };
enum vsim_observes { VSIM_OBS_SNAPSHOT = 0, VSIM_OBS_ACCESS = 1 };
typedef struct vsim_check_info {
  const char *id;
  const char *label;
  enum vsim_severity severity;
  enum vsim_judged judged;
  enum vsim_observes observes;
  const char *what;
  ...;
} vsim_check_info;
const vsim_check_info *vsim_check_info_get(int check);
int vsim_check_lookup(const char *id);
int vsim_check_count(void);
#define VSIM_VIOLATION_DETAIL_MAX ...
typedef struct vsim_violation {
  int check;
  uint64_t step;
  int32_t queue;
  char detail[...];
  ...;
} vsim_violation;

/* ---- virtiosim/virtiosim.h ---- */
typedef struct vsim_sim vsim_sim;
typedef struct vsim_options {
  bool has_seed;
  uint64_t seed;
  bool has_policy;
  int policy;
  bool has_ring;
  int ring;
  const char *trace_path;
  bool has_max_steps;
  uint64_t max_steps;
  bool checkers_off;
  ...;
} vsim_options;
vsim_sim *vsim_sim_load(const char *path, const vsim_options *opt, char *err, size_t errlen);
vsim_sim *vsim_sim_load_buffer(const char *json, size_t len, const char *name,
                               const vsim_options *opt, char *err, size_t errlen);
void vsim_sim_free(vsim_sim *s);
int vsim_sim_step(vsim_sim *s);
int vsim_sim_run(vsim_sim *s);
uint64_t vsim_sim_trace_hash(const vsim_sim *s);
uint64_t vsim_sim_steps(const vsim_sim *s);
uint64_t vsim_sim_seed(const vsim_sim *s);
const char *vsim_sim_policy_name(const vsim_sim *s);
vsim_arena *vsim_sim_arena(vsim_sim *s);
size_t vsim_sim_violation_count(const vsim_sim *s);
const vsim_violation *vsim_sim_violation(const vsim_sim *s, size_t i);
size_t vsim_sim_failure_count(const vsim_sim *s);
const char *vsim_sim_failure(const vsim_sim *s, size_t i);
typedef struct vsim_counters {
  uint64_t kicks;
  uint64_t interrupts;
  uint64_t config_irqs;
  uint64_t submitted;
  uint64_t completed;
  uint64_t device_status;
  uint64_t events;
  bool stalled;
  uint64_t latency_total;
  uint64_t latency_max;
  uint64_t clock;
  uint64_t bytes_copied;
  uint64_t bytes_moved;
  ...;
} vsim_counters;
void vsim_sim_counters(const vsim_sim *s, vsim_counters *out);
const char *vsim_sim_repro(const vsim_sim *s);
const char *vsim_sim_name(const vsim_sim *s);
"""

SOURCE = '#include "virtiosim/virtiosim.h"\n'


def make_ffi(lib, sanitize=None):
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    ffi.set_source(
        MODULE,
        SOURCE,
        include_dirs=[INCLUDE],
        extra_objects=[lib],
        libraries=["jansson", "dl", "m"],
        extra_compile_args=["-std=gnu11"] + (sanitize.split() if sanitize else []),
        extra_link_args=sanitize.split() if sanitize else [],
    )
    return ffi


def sha_file(h, path):
    h.update(path.encode() + b"\0")
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)


def sync_py(out_pkg):
    """Copy python/virtiosim/*.py into OUT/virtiosim/, only what differs; drop stale copies."""
    os.makedirs(out_pkg, exist_ok=True)
    wanted = sorted(n for n in os.listdir(PKG_SRC) if n.endswith(".py"))
    for name in wanted:
        src, dst = os.path.join(PKG_SRC, name), os.path.join(out_pkg, name)
        with open(src, "rb") as f:
            data = f.read()
        if os.path.exists(dst):
            with open(dst, "rb") as f:
                if f.read() == data:
                    continue
        tmp = dst + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dst)
    for name in os.listdir(out_pkg):
        if name.endswith(".py") and name not in wanted:
            os.remove(os.path.join(out_pkg, name))


def main(argv=None):
    ap = argparse.ArgumentParser(description="build the virtiosim cffi extension")
    ap.add_argument("--lib", required=True, help="path to libvirtiosim.a")
    ap.add_argument("--out", required=True, help="output directory (becomes a PYTHONPATH entry)")
    ap.add_argument("--force", action="store_true", help="rebuild even when the stamp matches")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--sanitize", default=None,
                    help="e.g. -fsanitize=address,undefined: for a library built with sanitizers")
    args = ap.parse_args(argv)

    lib = os.path.abspath(args.lib)
    out = os.path.abspath(args.out)
    if not os.path.isfile(lib):
        sys.exit("build_ffi.py: %s not found (run `make all` first)" % args.lib)
    out_pkg = os.path.join(out, "virtiosim")
    tmpdir = os.path.join(out, "_ffi_build")
    os.makedirs(tmpdir, exist_ok=True)
    sync_py(out_pkg)

    ffi = make_ffi(lib, args.sanitize)
    # Writes tmpdir/virtiosim/_native.c, only when its content changed.
    c_file = os.path.join(tmpdir, "virtiosim", "_native.c")
    os.makedirs(os.path.dirname(c_file), exist_ok=True)
    with contextlib.redirect_stdout(sys.stdout if args.verbose else io.StringIO()):
        ffi.emit_c_code(c_file)

    h = hashlib.sha256()
    h.update(("python %s cffi %s\n" % (sys.version, cffi.__version__)).encode())
    sha_file(h, os.path.abspath(__file__))
    sha_file(h, c_file)
    sha_file(h, lib)
    h.update(("sanitize %s\n" % args.sanitize).encode())
    for root, dirs, files in os.walk(INCLUDE):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".h"):
                sha_file(h, os.path.join(root, name))
    stamp = h.hexdigest()
    stamp_file = os.path.join(tmpdir, "stamp")
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    so_name = "_native" + suffix
    so_out = os.path.join(out_pkg, so_name)

    if not args.force and os.path.exists(so_out) and os.path.exists(stamp_file):
        with open(stamp_file) as f:
            if f.read().strip() == stamp:
                if args.verbose:
                    print("build_ffi.py: %s is up to date" % so_out)
                return 0

    built = ffi.compile(tmpdir=tmpdir, verbose=args.verbose)
    tmp = so_out + ".tmp"
    shutil.copyfile(built, tmp)
    os.replace(tmp, so_out)  # atomic: a concurrent import sees the old or the new module
    with open(stamp_file, "w") as f:
        f.write(stamp + "\n")
    print("build_ffi.py: built %s" % os.path.relpath(so_out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
