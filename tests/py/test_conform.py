"""`virtio-sim conform`: a backend through the conformance suites.

What is tested here:
  - the built-in blk model passes every suite over the whole feature matrix,
    with no fail, warn, wedged or crashed verdict;
  - every mutant makes the suites fail, with its own check among the failures
    and nothing but its own check (or its packed-ring counterpart) and the
    documented consequences listed below;
  - the reports: report.json has one record per test with the fields the
    issue asks for, junit.xml parses and has one testcase per test, and
    index.html is self-contained, every link in it resolves, and (with
    Debian's chromium) it renders to a PNG that is not blank;
  - --jobs N gives the same report as --jobs 1;
  - --xfail turns a known failure into xfail (exit 0) and an unexpected pass
    into xpass (exit 1);
  - a plugin that crashes gives `crashed` for that test and the run goes on;
    one that hangs gives `wedged` (per-test wall-clock bound), not a hang;
    one without RING_PACKED gets `skip` for the packed variants;
  - the reproduce command of a failing test re-runs exactly that test with
    the same verdict; usage errors exit 2.
"""
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI", str(REPO / "build" / "virtio-sim"))
CHROMIUM = "/usr/bin/chromium"
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")

BAD = {"fail", "warn", "wedged", "crashed", "xpass"}


def conform(*args, rc=None, timeout=600):
    r = subprocess.run([CLI, "conform", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if rc is not None:
        assert r.returncode == rc, (args, r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    return r


def mutants():
    out = subprocess.run([CLI, "mutants"], capture_output=True, text=True, timeout=60, check=True).stdout
    return [(line.split()[0], line.split()[2]) for line in out.splitlines() if line.strip()]


def checks_catalog():
    out = subprocess.run([CLI, "checks", "--json"], capture_output=True, text=True, timeout=60, check=True).stdout
    return {c["id"]: c for c in json.loads(out)}


# The same rule on the packed ring (vsim_check_on_packed).
PACKED_TWIN = {
    "split.used-id-range": "packed.used-id-not-outstanding",
    "split.used-id-not-outstanding": "packed.used-id-not-outstanding",
    "split.used-len-exceeds": "packed.used-len-exceeds",
    "notify.drv-missed-kick": "packed.drv-missed-kick",
    "split.ring-align": "packed.ring-align",
    "split.used-out-of-order": "packed.used-out-of-order",
}

# What else a mutant's broken rule leads to, and why.
CONSEQUENCES = {
    # DATA_VALID whatever GUEST_CSUM says is DATA_VALID too after
    # GUEST_OFFLOADS_SET switched GUEST_CSUM off (net/offloads-set)
    "dev.net-rx-data-valid": {"net.dev-rx-offloads-state"},
    # config space that reads 0 until FEATURES_OK and its real values after,
    # config_generation unchanged: over virtio-pci that is also a changed
    # value read without a generation change
    "dev.config-zero-before-features-ok": {"pci.dev-config-generation"},
    # a queue re-enabled by QueueReady alone has QueueNum 0 since its reset:
    # the virtio-mmio device refuses it (virtio-pci keeps the maximum); the
    # driver believes it enabled, kicks a queue that is not ready, and its
    # requests there are never served
    "drv.queue-reenable-stale": {"mmio.drv-queue-size", "mmio.drv-notify-queue", "liveness.stall"},
    # a used.idx one too far makes the driver read an entry the device never
    # wrote: a stale id, which the U-check on ids reports
    "dev.used-idx-jump": {"split.used-id-not-outstanding"},
    # the in-order driver reuses descriptors in ring order; the device then
    # finds a head still in flight
    # (packed: the driver cannot tell out-of-order use from a batch, completes
    # a request the device has not run, and reads back the wrong data)
    "dev.in-order-out-of-order": {"split.avail-head-in-flight", "blk.dev-status-value"},
    # a batch reported with its first id: the driver waits for the rest
    "dev.packed-in-order-batch-id": {"liveness.stall"},
    # used descriptors with the wrong wrap bits never look used: lost completions
    "dev.packed-used-wrap": {"liveness.stall"},
    # a lost interrupt, a silent NEEDS_RESET, a queue that keeps running after
    # its reset, a lost kick: the requests never complete
    "dev.skip-irq": {"liveness.stall"},
    "dev.needs-reset-silent": {"liveness.stall"},
    "dev.reset-noisy": {"liveness.stall"},
    "dev.mmio-queue-reset-keeps-ready": {"liveness.stall"},
    # avail.idx published before the entries it covers: at the update the ring
    # shows stale heads, an outstanding one among them
    "drv.avail-idx-before-entry": {"split.avail-head-in-flight"},
    # a queue re-enabled smaller but served with its old size: the device
    # takes heads past the driver's ring (the requests made available are
    # never executed: their status byte stays unwritten) and writes its used
    # entries past the driver's used ring, so the driver reaps stale entries
    # of the lap before, frees heads still in flight and publishes them again;
    # with EVENT_IDX the two sides also miss each other's event index (a stall)
    "dev.queue-reenable-stale": {"blk.dev-status-value", "split.avail-head-in-flight", "liveness.stall"},
    "dev.pci-queue-reset-keeps-enable": {"liveness.stall"},
    # queue interrupts on the config vector read as configuration changes: the
    # driver never looks at its queues
    # (and the queue a scenario unmapped gets one on the config vector too)
    "dev.pci-msix-config-vector": {"liveness.stall", "pci.dev-msix-unmapped"},
    "drv.skip-kick": {"liveness.stall"},
    "drv.used-flags-dirty": {"liveness.stall"},
    # a buffer carried out over the used ring overwrites used.flags and used.idx
    # there, which the driver's checks of those fields report
    "dev.trust-buffers": {"notify.dev-used-flags", "split.used-idx-jump"},
    # status 7 is wrong wherever a specific error status is required
    "dev.blk-bad-status": {"blk.dev-discard-flags", "blk.dev-ro-write"},
    # feature bits written after FEATURES_OK are also bits the device did not offer
    "drv.features-after-ok": {"feat.drv-unoffered"},
    # clearing ACKNOWLEDGE breaks the order of the bits that follow
    "drv.clear-status-bit": {"status.drv-order"},
    # without re-reading FEATURES_OK the driver carries on after a refusal
    "drv.no-features-ok-reread": {"status.drv-continue-after-refusal"},
    # the driver reuses a head / buffer id only while its used ring shows
    # nothing unreaped, but under a random interleaving the device may already
    # have taken the earlier chain off its books (used it, not yet published
    # it): the reuse is then a fresh chain to it, served a second time, and the
    # second completion names an id the driver no longer has outstanding (with
    # the buffers rewritten under the device, its writes and statuses go wrong)
    "drv.avail-head-in-flight": {"split.used-id-not-outstanding", "mem.dev-write-readonly"},
    # (packed with indirect tables, one per buffer id: its ids confused by the
    # double completion, the driver writes the table of an id it believes
    # free while a list it published still uses it: mem.drv-alter-exposed)
    "drv.packed-buffer-id-in-flight": {"packed.used-id-not-outstanding", "mem.dev-write-readonly",
                                       "blk.dev-status-value", "mem.drv-alter-exposed"},
    # a scripted device does not check buffer ids: the completion it writes
    # names the (out-of-range) id of the list, which the driver cannot match,
    # and the request never completes
    "drv.packed-buffer-id-range": {"liveness.stall"},
    # a scripted device (regress/packed-publish-zero-slots) does not check
    # lists: it writes the status where the list says, over the header (the
    # device wrote a readable buffer), and the driver finds its own status
    # byte never written
    "drv.packed-desc-reply-in-place": {"mem.dev-write-readonly", "blk.dev-status-value"},
}


def load_report(d):
    with open(d / "report.json") as f:
        return json.load(f)


def verdicts(report):
    out = {}
    for t in report["tests"]:
        out[t["verdict"]] = out.get(t["verdict"], 0) + 1
    return out


@pytest.fixture(scope="module")
def builtin_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("builtin-report")
    # the sanitizer pass checks the runner's memory safety: one variant is enough
    fast = ["--matrix", "native", "--seeds", "1"] if SANITIZED else []
    r = conform("--backend", "builtin:blk", "--device", "blk", "--report", d, "--quiet", "--jobs", "2", *fast, rc=0)
    assert "result: PASS" in r.stdout
    return d, load_report(d), r.stdout


def test_builtin_blk_passes_cleanly(builtin_report):
    d, rep, out = builtin_report
    v = verdicts(rep)
    assert not set(v) & BAD, v
    assert v.get("pass", 0) > (50 if SANITIZED else 500) and v.get("reject", 0) > (40 if SANITIZED else 100), v
    # every suite ran, on both ring layouts, over the matrix and two seeds
    suites = {t["suite"] for t in rep["tests"]}
    assert {"init", "split-ring", "packed-ring", "notify", "reset", "mmio", "blk"} <= suites
    if not SANITIZED:
        variants = {t["variant"] for t in rep["tests"]}
        assert {"split", "packed", "split,-event_idx,-indirect,-in_order", "packed,-in_order"} <= variants
        assert {t["policy"] for t in rep["tests"]} == {"as written", "random"}
    # adversarial tests end in reject, well-formed ones in pass
    for t in rep["tests"]:
        if t["suite"] == "vhost-user":  # the protocol's own tests: vhost-user back-ends only
            assert t["verdict"] == "skip" and "vhost-user" in t["reason"], t
            continue
        assert t["verdict"] == ("reject" if t["adversarial"] else "pass"), t


def test_report_json_fields(builtin_report):
    d, rep, _ = builtin_report
    assert rep["backend"] == "builtin:blk" and rep["device"] == "blk" and rep["profile"] == "strict"
    ids = [t["id"] for t in rep["tests"]]
    assert len(ids) == len(set(ids))
    for t in rep["tests"]:
        for k in ("id", "suite", "scenario", "variant", "verdict", "severity", "checks", "seed", "trace_hash"):
            assert k in t, (k, t)
        if t["verdict"] == "reject":
            assert t["repro"].startswith("virtio-sim conform --backend 'builtin:blk' --device blk --test ")
    assert sum(rep["summary"].values()) == len(rep["tests"])


def test_junit_xml(builtin_report):
    d, rep, _ = builtin_report
    root = ET.parse(d / "junit.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(rep["tests"])
    assert not root.findall(".//failure")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.external = set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        for k in ("src", "href"):
            if k in a and re.match(r"^(https?:)?//", a[k] or ""):
                self.external.append(a[k])
        if tag in ("script", "link", "img") and ("src" in a or "href" in a):
            self.external.append(a.get("src") or a.get("href"))


def check_links(html_path):
    p = _Links()
    p.feed(html_path.read_text())
    assert not p.external, p.external  # self-contained
    assert p.hrefs
    for h in p.hrefs:
        if h.startswith("#"):
            assert h[1:] in p.ids, h
        else:
            assert (html_path.parent / h).exists(), h
    return p


def render_png(html_path, png, tmp_path):
    """Headless Chromium's screenshot. It sometimes lingers after writing the
    file on a loaded machine: a bounded wait, one retry, and the PNG it wrote
    is what counts."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    last = None
    for attempt in range(2):
        profile = tmp_path / ("chromium-profile-%d" % attempt)
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--user-data-dir=%s" % profile, "--screenshot=%s" % png, "--window-size=1200,1600",
               html_path.as_uri()]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                start_new_session=True)
        try:
            _, err = proc.communicate(timeout=90)
            last = err.decode(errors="replace")[-2000:]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # the browser and its helpers, by their process group
            proc.communicate()
            last = "timed out"
        if png.exists() and png.stat().st_size > 0:
            break
    assert png.exists(), last
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return data


def test_html_report_builtin(builtin_report, tmp_path):
    d, rep, _ = builtin_report
    html = d / "index.html"
    check_links(html)
    text = html.read_text()
    assert "Verdicts by suite" in text and "Coverage of normative sections" in text
    assert "No failures or warnings." in text


@pytest.fixture(scope="module")
def mutant_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("mutant-report")
    r = conform("--backend", "builtin:blk?mutant=dev.used-len-over", "--device", "blk", "--suite", "blk",
                "--matrix", "native", "--report", d, "--quiet", rc=1)
    return d, load_report(d), r.stdout


def test_html_report_failure_has_picture_and_repro(mutant_report, tmp_path):
    d, rep, out = mutant_report
    html = d / "index.html"
    links = check_links(html)
    text = html.read_text()
    failing = [t for t in rep["tests"] if t["verdict"] == "fail"]
    assert failing
    t = failing[0]
    assert "t%d" % rep["tests"].index(t) in links.ids
    assert t["checks"][0]["id"] == "split.used-len-exceeds"
    assert t["checks"][0]["label"].startswith("devicenormative:")
    assert "trace_excerpt" in t and "reap" in t["trace_excerpt"]
    assert "<svg" in text and "reproduce:" in text
    assert t["repro"] in text.replace("&#39;", "'")
    root = ET.parse(d / "junit.xml").getroot()
    msgs = [f.get("message") for f in root.findall(".//failure")]
    assert any("devicenormative:Basic Facilities of a Virtio Device / Virtqueues / The Virtqueue Used Ring" in m
               for m in msgs)
    if SANITIZED or not os.path.exists(CHROMIUM):
        pytest.skip("chromium not installed (or sanitizer pass): the HTML was checked by content only")
    data = render_png(html, tmp_path / "report.png", tmp_path)
    assert len(data) > 5000  # a page with tables and a picture, not a blank one


def test_failure_repro_reruns_the_same_test(mutant_report):
    d, rep, _ = mutant_report
    t = next(t for t in rep["tests"] if t["verdict"] == "fail")
    cmd = t["repro"]
    assert cmd.startswith("virtio-sim conform ")
    args = re.findall(r"'([^']*)'|(\S+)", cmd[len("virtio-sim conform "):])
    argv = [a or b for a, b in args]
    r = conform(*argv, rc=1)
    assert t["id"] in r.stdout and "fail" in r.stdout
    assert "split.used-len-exceeds" in r.stdout and "events of step" in r.stdout


# Driver checks conform turns into "not applicable to this device" (skip) in a
# well-formed test (conform_run.c: the test breaks this device's own limits);
# a mutant breaking one shows as such skips, naming the rule, and no failure.
NOT_APPLICABLE = {"blk.drv-segments"}


@pytest.mark.parametrize("mutant,check", mutants())
def test_every_mutant_fails_exactly_its_check(mutant, check, tmp_path):
    if mutant.startswith("vu."):
        # no built-in model speaks vhost-user: these break the scripted
        # back-end, whose script answers the one conversation of its proof
        # (scenarios/mutants/vu.*.json, run by test_mutants.py), not a suite
        pytest.skip("a mutant of the scripted vhost-user back-end: proven by test_mutants.py")
    if SANITIZED and mutant not in ("dev.used-len-over", "drv.skip-kick", "dev.no-reenable"):
        pytest.skip("sanitizer pass: a sample of mutants")
    d = tmp_path / "r"
    # a rule of the packed ring shows on scenarios written for the split ring
    # run packed: the whole matrix; the others in the scenarios' own settings
    packed_rule = checks_catalog()[check]["applies"]["ring"] == "packed"
    # the device type the mutant breaks: the one its proof scenario drives
    device = json.loads((REPO / "scenarios" / "mutants" / (mutant + ".json")).read_text())["device"]
    r = conform("--backend", "builtin:%s?mutant=%s" % (device, mutant), "--device", device, "--matrix",
                "full" if packed_rule else "native", "--seeds", "1", "--quiet", "--no-details", "--report", d)
    if check in NOT_APPLICABLE:
        assert r.returncode == 0, r.stdout[-1500:]
        rep = load_report(d)
        label = checks_catalog()[check]["label"]
        skipped = [t["id"] for t in rep["tests"] if t["verdict"] == "skip" and label in (t["reason"] or "")]
        assert skipped, (mutant, check, verdicts(rep))
        failed = {c["id"] for t in rep["tests"] for c in t["checks"]}
        assert failed <= CONSEQUENCES.get(mutant, set()), (mutant, failed)
        return
    # a SHOULD broken is a warning: the run itself still passes
    assert r.returncode == (0 if checks_catalog()[check]["severity"] == "SHOULD" else 1), r.stdout[-1500:]
    rep = load_report(d)
    failed = {c["id"] for t in rep["tests"] for c in t["checks"]}
    assert check in failed, (mutant, check, verdicts(rep))
    allowed = {check, PACKED_TWIN.get(check, check)} | CONSEQUENCES.get(mutant, set())
    assert failed <= allowed, (mutant, failed - allowed)


def test_jobs_give_the_same_report(tmp_path):
    a, b = tmp_path / "j1", tmp_path / "j3"
    args = ["--backend", "builtin:blk?mutant=dev.irq-always", "--device", "blk", "--suite", "notify", "--quiet"]
    if SANITIZED:
        args += ["--matrix", "native"]  # every test ~10x slower: the suite once
    r1 = conform(*args, "--jobs", "1", "--report", a)
    r3 = conform(*args, "--jobs", "3", "--report", b)
    assert r1.returncode == r3.returncode
    assert r1.stdout.replace(str(a), "D") == r3.stdout.replace(str(b), "D")
    for f in ("report.json", "junit.xml", "index.html"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_xfail_and_xpass(tmp_path):
    args = ["--backend", "builtin:blk?mutant=dev.blk-discard-unmap", "--device", "blk", "--suite", "blk",
            "--matrix", "native", "--seeds", "1", "--quiet", "--no-details"]
    conform(*args, "--report", tmp_path / "a", rc=1)
    failing = [t["id"] for t in load_report(tmp_path / "a")["tests"] if t["verdict"] == "fail"]
    assert failing
    xf = tmp_path / "xfail.txt"
    xf.write_text("# known bugs\n" + "".join("%s  discard with unmap accepted (bug 12)\n" % t for t in failing))
    conform(*args, "--xfail", xf, "--report", tmp_path / "b", rc=0)
    rep = load_report(tmp_path / "b")
    xfailed = [t for t in rep["tests"] if t["verdict"] == "xfail"]
    assert [t["id"] for t in xfailed] == failing
    assert all(t["xfail_reason"] == "discard with unmap accepted (bug 12)" for t in xfailed)
    # a pattern that also matches tests that pass: those are xpass and fail the run
    xf.write_text("blk:blk/flush-ok*  flush is broken\n")
    conform(*args, "--xfail", xf, "--report", tmp_path / "c", rc=1)
    rep = load_report(tmp_path / "c")
    assert [t["verdict"] for t in rep["tests"] if t["id"].startswith("blk:blk/flush-ok")] == ["xpass"]
    xf.write_text("blk:blk/flush-ok*\n")
    r = conform(*args, "--xfail", xf, rc=2)  # a reason is required
    assert "xfail.txt:1:" in r.stderr


def test_usage_errors():
    assert conform("--device", "blk").returncode == 2
    assert conform("--backend", "builtin:blk").returncode == 2
    assert conform("--backend", "builtin:blk", "--device", "blk", "--profile", "lax").returncode == 2
    assert conform("--backend", "builtin:nope", "--device", "blk").returncode == 2
    assert conform("--backend", "builtin:blk", "--device", "blk", "--suite", "nope").returncode == 2
    assert conform("--backend", "builtin:blk", "--device", "blk", "--test", "nope").returncode == 2
    r = conform("--backend", "plugin:/nonexistent.so", "--device", "blk")
    assert r.returncode == 2 and "cannot load plugin" in r.stderr


def test_compat_profile_tolerates_used_len(tmp_path):
    args = ["--backend", "builtin:blk?mutant=dev.used-len-over", "--device", "blk", "--suite", "blk",
            "--matrix", "native", "--seeds", "1", "--quiet", "--no-details"]
    conform(*args, "--report", tmp_path / "s", rc=1)
    conform(*args, "--profile", "compat", "--report", tmp_path / "c", rc=0)
    strict, compat = verdicts(load_report(tmp_path / "s")), verdicts(load_report(tmp_path / "c"))
    assert strict.get("fail") and not strict.get("warn"), strict
    assert compat.get("warn") == strict["fail"] and not compat.get("fail"), compat
    t = next(t for t in load_report(tmp_path / "c")["tests"] if t["verdict"] == "warn")
    assert t["checks"][0]["tolerated_by_profile"] is True


# ---- plugins that misbehave -------------------------------------------------

BAD_PLUGIN = r"""
/* A deliberately broken blk-like device for the conformance runner's tests:
 * it negotiates, then crashes (MODE 1) or hangs (MODE 2) on the first kick. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <virtiosim/backend.h>
typedef struct dev { const vsim_host *host; uint8_t status; uint64_t drv; int kicked; } dev;
static void destroy(void *be) { free(be); }
static uint32_t device_id(void *be) { return 2; }
static uint32_t vendor_id(void *be) { return 0x1af4; }
static uint16_t num_queues(void *be) { return 1; }
static uint16_t queue_max(void *be, uint16_t q) { return 256; }
static uint64_t features(void *be) { return 1ull << 32; /* VERSION_1 only: no packed ring */ }
static void set_features(void *be, uint64_t f) { ((dev *)be)->drv = f; }
static uint8_t get_status(void *be) { return ((dev *)be)->status; }
static void set_status(void *be, uint8_t s) { ((dev *)be)->status = s; }
static uint32_t gen(void *be) { return 0; }
static uint32_t cfg_size(void *be) { return 8; }
static int cfg_read(void *be, uint32_t off, void *dst, uint32_t len) {
  uint8_t c[8] = {0, 8, 0, 0, 0, 0, 0, 0};
  if (off > 8 || len > 8 - off) return -1;
  memcpy(dst, c + off, len);
  return 0;
}
static int cfg_write(void *be, uint32_t off, const void *src, uint32_t len) { return -1; }
static int queue_ready(void *be, uint16_t q, const vsim_queue_cfg *c) { return 0; }
static void notify(void *be, uint16_t q, uint32_t data) {
  ((dev *)be)->kicked = 1;
#if MODE == 1
  abort();
#endif
}
static volatile int spin = 1;
static bool runnable(void *be, uint16_t q) { return MODE == 2 && ((dev *)be)->kicked; }
static int run(void *be, uint16_t q, uint32_t budget) {
  while (spin) {}
  return 0;
}
static const vsim_backend_ops ops = {
  .abi_version = VSIM_BACKEND_ABI_VERSION, .name = "bad", .destroy = destroy, .device_id = device_id,
  .vendor_id = vendor_id, .num_queues = num_queues, .queue_max_size = queue_max,
  .device_features = features, .set_driver_features = set_features, .get_status = get_status,
  .set_status = set_status, .config_generation = gen, .config_size = cfg_size, .config_read = cfg_read,
  .config_write = cfg_write, .queue_ready = queue_ready, .queue_notify = notify,
  .queue_runnable = runnable, .queue_run = run};
int vsim_plugin_create(const vsim_backend_params *p, vsim_backend *out, char *err, unsigned errlen) {
  dev *d = calloc(1, sizeof *d);
  if (!d) return -1;
  d->host = p->host;
  out->ops = &ops;
  out->be = d;
  return 0;
}
"""


def build_plugin(tmp_path, mode):
    src = tmp_path / ("bad%d.c" % mode)
    src.write_text(BAD_PLUGIN)
    so = tmp_path / ("libbad%d.so" % mode)
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-DMODE=%d" % mode, "-I", str(REPO / "include"), "-o", str(so),
                    str(src)], check=True, timeout=120)
    return so


def test_crashing_plugin_is_crashed_not_fatal(tmp_path):
    so = build_plugin(tmp_path, 1)
    d = tmp_path / "r"
    r = conform("--backend", "plugin:%s" % so, "--device", "blk", "--suite", "blk", "--matrix", "native",
                "--seeds", "1", "--report", d, "--quiet", rc=1, timeout=300)
    rep = load_report(d)
    v = verdicts(rep)
    assert v.get("crashed", 0) > 5, v
    t = next(t for t in rep["tests"] if t["verdict"] == "crashed")
    assert "signal 6" in t["reason"] and t["severity"] == "high"
    # no RING_PACKED offered: packed-only tests are skipped, with the reason
    assert any(t["verdict"] == "skip" and "RING_PACKED" in t["reason"] for t in rep["tests"]) or \
        any(t["verdict"] == "skip" and "built-in" in t["reason"] for t in rep["tests"])


def test_packed_variants_skip_without_ring_packed(tmp_path):
    so = build_plugin(tmp_path, 1)
    r = conform("--backend", "plugin:%s" % so, "--device", "blk", "--suite", "blk", "--list", rc=0)
    packed = [l for l in r.stdout.splitlines() if "[packed" in l]
    assert packed and all("(skip: " in l for l in packed)
    assert sum("(skip: needs RING_PACKED, which the device does not offer)" in l for l in packed) > 20


def test_hanging_plugin_is_wedged_not_a_hang(tmp_path):
    so = build_plugin(tmp_path, 2)
    d = tmp_path / "r"
    conform("--backend", "plugin:%s" % so, "--device", "blk", "--test", "blk:blk/read-unwritten-zero[split]#0",
            "--timeout", "2", "--report", d, rc=1, timeout=120)
    rep = load_report(d)
    (t,) = rep["tests"]
    assert t["verdict"] == "wedged" and "wall-clock" in t["reason"], t


def test_checks_lists_scope_and_proof():
    cat = checks_catalog()
    for c in cat.values():
        assert c["mutant"] or c["scenario"] or c["test"], "%s is proven by nothing" % c["id"]
        if c["test"]:
            assert c["id"].startswith("vhost-user.") and c["id"] in (REPO / c["test"]).read_text()
        assert set(c["applies"]) == {"ring", "device", "transport", "features"}
    assert cat["packed.used-flags-wrap"]["applies"]["ring"] == "packed"
    assert "RING_PACKED" in cat["packed.used-flags-wrap"]["applies"]["features"]
    assert cat["blk.dev-ro-write"]["applies"]["device"] == "blk"
    assert "IN_ORDER" in cat["split.used-out-of-order"]["applies"]["features"]
    assert cat["split.used-len-exceeds"]["mutant"] == "dev.used-len-over"
    assert cat["split.avail-head-range"]["scenario"].endswith(".json")
    out = subprocess.run([CLI, "checks"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert re.search(r"^\d+ checks: \d+ proven by a mutant .*mutation score \d+%", out, re.M)


def test_report_directory_made_first_with_its_parents(tmp_path):
    """--report creates its directory and the missing parents before the
    run; one that cannot be made is a usage error before any test runs."""
    d = tmp_path / "a" / "b" / "report"
    conform("--backend", "builtin:input", "--device", "input", "--quiet", "--report", d, rc=0)
    assert load_report(d)["summary"]["pass"] > 0
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = conform("--backend", "builtin:input", "--device", "input", "--quiet", "--report", blocker / "report", rc=2)
    assert "cannot create" in r.stderr and "virtio-sim conform: backend" not in r.stdout, r.stdout + r.stderr
