/* tests/c/test_scenario.c — the scenario loader (sim/scenario.c), its
 * position finder (sim/json_pos.c) and the name tables (sim/names.c).
 *
 * Owns: proof that a valid scenario loads with every field in place, that
 * every class of mistake is refused with the exact FILE:LINE:COL and field
 * path, that the fixtures in tests/data/scenarios behave as their .err files
 * say, that the README's examples load, and that no truncated or mangled
 * input can crash the loader (run under ASan/UBSan; leaks fail the run).
 * Must never: depend on the current directory beyond the repository layout
 * (paths are found from __FILE__), or on anything but the loader's own files.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "json_pos.h"
#include "scenario.h"
#include "testutil.h"
#include "virtiosim/arena.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

/* ---- helpers -------------------------------------------------------------- */

/* The repository root as seen from this file's path ("tests/c/..." → ""). */
static void repo_path(char *out, size_t len, const char *rel) {
  const char *self = __FILE__;
  const char *cut = strstr(self, "tests/c/test_scenario.c");
  size_t n = cut ? (size_t)(cut - self) : 0;
  snprintf(out, len, "%.*s%s", (int)n, self, rel);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) {
    buf[n] = '\0';
    if (len) *len = (size_t)n;
  }
  return buf;
}

static vsim_scenario *load(const char *text, char *err) {
  return vsim_scenario_load_buffer(text, strlen(text), "t.json", err, VSIM_ERR_MAX);
}

/* The load must fail with exactly `want` (or, with prefix, starting with it). */
static void expect_err_at(int line, const char *text, const char *want, bool prefix) {
  char err[VSIM_ERR_MAX] = "";
  vsim_scenario *sc = load(text, err);
  CHECK(sc == NULL);
  vsim_scenario_free(sc);
  bool ok = prefix ? strncmp(err, want, strlen(want)) == 0 : strcmp(err, want) == 0;
  if (!ok) fprintf(stderr, "  test_scenario.c:%d:\n    want: %s%s\n    got:  %s\n", line, want, prefix ? "..." : "", err);
  CHECK(ok);
}
#define EXPECT_ERR(text, want) expect_err_at(__LINE__, text, want, false)
#define EXPECT_ERR_PREFIX(text, want) expect_err_at(__LINE__, text, want, true)

static vsim_scenario *expect_ok_at(int line, const char *text) {
  char err[VSIM_ERR_MAX] = "";
  vsim_scenario *sc = load(text, err);
  if (!sc) fprintf(stderr, "  test_scenario.c:%d: unexpected error: %s\n", line, err);
  CHECK(sc != NULL);
  return sc;
}
#define EXPECT_OK(text) expect_ok_at(__LINE__, text)

/* A step on line 3 at column 3 of a small valid document. */
#define STEP_DOC(step)                                                 \
  "{\"name\": \"t\", \"device\": \"blk\", \"num_queues\": 2, \"steps\": [\n" \
  "  {\"op\": \"init\"},\n"                                              \
  "  " step "\n"                                                         \
  "]}\n"

/* ---- valid scenarios ------------------------------------------------------ */

static vsim_scenario *load_fixture(const char *rel) {
  char path[512], err[VSIM_ERR_MAX] = "";
  repo_path(path, sizeof(path), rel);
  vsim_scenario *sc = vsim_scenario_load_file(path, err, sizeof(err));
  if (!sc) fprintf(stderr, "  %s: %s\n", rel, err);
  return sc;
}

static void test_full_scenario_top_level(void) {
  vsim_scenario *sc = load_fixture("tests/data/scenarios/good/all_ops.json");
  CHECK(sc != NULL);
  if (!sc) return;
  CHECK(strstr(sc->path, "all_ops.json") != NULL);
  CHECK(strcmp(sc->name, "all-ops") == 0);
  CHECK(strcmp(sc->device, "blk") == 0);
  CHECK_EQ(sc->transport, VSIM_TRANSPORT_PCI);
  CHECK_EQ(sc->ring, VSIM_RING_SPLIT);
  CHECK_EQ(sc->queue_size, 16);
  CHECK_EQ(sc->queue_max, 128);
  CHECK_EQ(sc->num_queues, 2);
  CHECK_EQ(sc->arena_size, 0x200000);
  CHECK(sc->seed == UINT64_C(0xfeedfacecafebeef));
  CHECK_EQ(sc->policy, VSIM_POLICY_RANDOM);
  CHECK_EQ(sc->max_steps, 5000);
  CHECK_EQ(sc->device_batch, 4);
  CHECK(sc->has_offered);
  uint64_t offered = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
                     (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_BLK_F_FLUSH) |
                     (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES) |
                     (1ull << VIRTIO_BLK_F_MQ) | (1ull << 50);
  CHECK(sc->offered == offered);
  CHECK(sc->has_accept);
  CHECK(sc->accept == ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_MQ)));
  CHECK(sc->driver_poll);
  CHECK(!sc->auto_init);
  vsim_mutset want = test_mutset(TMUT(DEV_SKIP_IRQ) | TMUT(DRV_KICK_ALWAYS));
  CHECK(vsim_mut_equal(&sc->mutants, &want));
  CHECK_EQ(sc->nregions, 4);
  CHECK_EQ(sc->regions[0].base, 0x100000);
  CHECK_EQ(sc->regions[0].len, 4096);
  CHECK_EQ(sc->regions[0].perm, VSIM_REGION_HOLE);
  CHECK_EQ(sc->regions[1].base, 0x101000);
  CHECK_EQ(sc->regions[1].perm, VSIM_REGION_PERM(VSIM_ACC_RW, 0));
  CHECK_EQ(sc->regions[2].perm, VSIM_REGION_PERM(VSIM_ACC_RW, VSIM_ACC_READ));
  CHECK_EQ(sc->regions[3].perm, VSIM_REGION_RAM);
  CHECK_EQ(sc->nconfig, 3);
  CHECK(strcmp(sc->config[0].key, "capacity") == 0 && strcmp(sc->config[0].value, "2048") == 0);
  CHECK(strcmp(sc->config[1].key, "serial") == 0 && strcmp(sc->config[1].value, "vsim0") == 0);
  CHECK(strcmp(sc->config[2].key, "wce") == 0 && strcmp(sc->config[2].value, "true") == 0);
  CHECK(sc->has_expect_violations);
  CHECK_EQ(sc->nexpect_violations, 2);
  CHECK_EQ(sc->expect_violations[0], vsim_check_lookup("notify.dev-missed-irq"));
  CHECK_EQ(sc->expect_violations[1], vsim_check_lookup("notify.drv-suppressed-kick"));
  CHECK_EQ(sc->expect_status_has, VIRTIO_CONFIG_S_ACKNOWLEDGE);
  CHECK_EQ(sc->expect_status_lacks, VIRTIO_CONFIG_S_FAILED);
  CHECK(sc->expect_kicks.set && sc->expect_kicks.min == 1 && sc->expect_kicks.max == UINT64_MAX);
  CHECK(sc->expect_irqs.set && sc->expect_irqs.min == 0 && sc->expect_irqs.max == 0);
  CHECK(sc->expect_completed.set && sc->expect_completed.min == 2 && sc->expect_completed.max == 10);
  vsim_scenario_free(sc);
}

static void test_full_scenario_steps(void) {
  vsim_scenario *sc = load_fixture("tests/data/scenarios/good/all_ops.json");
  CHECK(sc != NULL);
  if (!sc) return;
  CHECK_EQ(sc->nsteps, 26);
  if (sc->nsteps != 26) {
    vsim_scenario_free(sc);
    return;
  }
  const vsim_step *s = sc->steps;
  for (size_t i = 0; i < sc->nsteps; i++) {
    CHECK_EQ(s[i].line, 28 + i); /* one step per line from line 28 */
    CHECK_EQ(s[i].col, 5);
  }
  CHECK_EQ(s[0].op, VSIM_OP_INIT);
  CHECK_EQ(s[1].op, VSIM_OP_BLK_WRITE);
  CHECK_EQ(s[1].queue, 1);
  CHECK_EQ(s[1].sector, 2);
  CHECK_EQ(s[1].data.kind, VSIM_DATA_BYTES);
  CHECK_EQ(s[1].data.len, 4);
  CHECK(s[1].data.bytes && memcmp(s[1].data.bytes, "\xde\xad\xbe\xef", 4) == 0);
  CHECK(s[1].has_expect_status && s[1].expect_status == VIRTIO_BLK_S_OK);
  CHECK_EQ(s[2].data.kind, VSIM_DATA_PATTERN);
  CHECK_EQ(s[2].data.seed, 7);
  CHECK_EQ(s[2].data.len, 512);
  CHECK(!s[2].has_expect_status);
  CHECK_EQ(s[3].op, VSIM_OP_BLK_READ);
  CHECK_EQ(s[3].len, 4);
  CHECK_EQ(s[3].expect_data.kind, VSIM_DATA_BYTES);
  CHECK_EQ(s[4].len, 512); /* the default */
  CHECK(s[4].expect_data_written);
  CHECK_EQ(s[5].op, VSIM_OP_BLK_FLUSH);
  CHECK_EQ(s[5].sector, 0);
  CHECK_EQ(s[6].op, VSIM_OP_BLK_GET_ID);
  CHECK_EQ(s[6].expect_data.len, 5);
  CHECK_EQ(s[7].op, VSIM_OP_BLK_DISCARD);
  CHECK_EQ(s[7].nsectors, 4);
  CHECK_EQ(s[7].flags, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
  CHECK_EQ(s[7].expect_status, VIRTIO_BLK_S_UNSUPP);
  CHECK_EQ(s[8].op, VSIM_OP_BLK_WRITE_ZEROES);
  CHECK_EQ(s[8].flags, 0);
  CHECK_EQ(s[9].op, VSIM_OP_BLK_RAW);
  CHECK_EQ(s[9].type, 99);
  CHECK_EQ(s[9].data.kind, VSIM_DATA_FILL);
  CHECK_EQ(s[9].data.fill, 171);
  CHECK_EQ(s[9].data.len, 16);
  CHECK_EQ(s[9].len, 8);
  CHECK_EQ(s[10].op, VSIM_OP_WAIT);
  CHECK_EQ(s[11].op, VSIM_OP_POLL);
  CHECK_EQ(s[11].queue, 1);
  CHECK_EQ(s[12].op, VSIM_OP_KICK);
  CHECK(!s[12].has_value);
  CHECK(s[13].has_value && s[13].value == 0x10001);
  CHECK_EQ(s[14].op, VSIM_OP_RAW_DESC);
  CHECK_EQ(s[14].index, 15);
  CHECK_EQ(s[14].addr, 0x8000);
  CHECK_EQ(s[14].len, 512);
  CHECK_EQ(s[14].flags, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
  CHECK_EQ(s[14].next, 3);
  CHECK_EQ(s[15].len, UINT32_MAX);
  CHECK_EQ(s[15].flags, VRING_DESC_F_INDIRECT);
  CHECK_EQ(s[15].next, 0);
  CHECK_EQ(s[16].op, VSIM_OP_RAW_AVAIL);
  CHECK_EQ(s[16].nheads, 3);
  CHECK(s[16].heads[0] == 15 && s[16].heads[1] == 3 && s[16].heads[2] == 65535);
  CHECK(s[17].op == VSIM_OP_RAW_AVAIL_IDX && s[17].value == 7 && s[17].has_value);
  CHECK(s[18].op == VSIM_OP_RAW_AVAIL_FLAGS && s[18].value == 1 && s[18].queue == 1);
  CHECK(s[19].op == VSIM_OP_RAW_USED_EVENT && s[19].value == 65535);
  CHECK_EQ(s[20].op, VSIM_OP_RAW_WRITE);
  CHECK_EQ(s[20].addr, 0x1ffffc);
  CHECK_EQ(s[20].data.len, 4);
  CHECK(s[21].op == VSIM_OP_FAULT_DELAY_IRQ && s[21].value == 3);
  CHECK_EQ(s[22].op, VSIM_OP_FAULT_NEEDS_RESET);
  CHECK_EQ(s[23].op, VSIM_OP_EXPECT);
  CHECK_EQ(s[23].status_has, VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_DRIVER_OK);
  CHECK_EQ(s[23].status_lacks, VIRTIO_CONFIG_S_FAILED);
  CHECK_EQ(s[24].op, VSIM_OP_FAULT_DEVICE_RESET);
  CHECK_EQ(s[25].op, VSIM_OP_RESET);
  vsim_scenario_free(sc);
}

static void test_defaults(void) {
  vsim_scenario *sc = load_fixture("tests/data/scenarios/good/minimal.json");
  CHECK(sc != NULL);
  if (!sc) return;
  CHECK(strcmp(sc->name, "minimal") == 0);
  CHECK_EQ(sc->transport, VSIM_TRANSPORT_MMIO);
  CHECK_EQ(sc->ring, VSIM_RING_SPLIT);
  CHECK_EQ(sc->queue_size, 8);
  CHECK_EQ(sc->queue_max, 256);
  CHECK_EQ(sc->num_queues, 1);
  CHECK_EQ(sc->arena_size, 1048576);
  CHECK_EQ(sc->seed, 1);
  CHECK_EQ(sc->policy, VSIM_POLICY_SCRIPTED);
  CHECK_EQ(sc->max_steps, 100000);
  CHECK_EQ(sc->device_batch, 1);
  CHECK(!sc->has_offered && !sc->has_accept);
  CHECK(!sc->driver_poll);
  CHECK(sc->auto_init);
  CHECK(!vsim_mut_any(&sc->mutants));
  CHECK_EQ(sc->nregions, 0);
  CHECK_EQ(sc->nconfig, 0);
  CHECK_EQ(sc->nsteps, 0);
  CHECK(!sc->has_expect_violations);
  CHECK(!sc->expect_kicks.set && !sc->expect_irqs.set && !sc->expect_completed.set);
  vsim_scenario_free(sc);
}

static void test_step_defaults_and_variants(void) {
  vsim_scenario *sc = EXPECT_OK(
      "{\"name\": \"v\", \"device\": \"blk\", \"ring\": \"packed\", \"queue_size\": 12, \"steps\": [\n"
      "  {\"op\": \"blk.read\", \"sector\": \"0xFFFFFFFFFFFFFFFF\"},\n"
      "  {\"op\": \"blk.read\", \"sector\": 1, \"expect_data\": {\"fill\": 0, \"len\": 1024}},\n"
      "  {\"op\": \"blk.raw\", \"type\": 4294967295},\n"
      "  {\"op\": \"blk.write\", \"sector\": 0, \"data\": \"\"},\n"
      "  {\"op\": \"blk.discard\", \"sector\": 0, \"nsectors\": 1, \"unmap\": false}\n"
      "], \"expect\": {\"violations\": []}}");
  if (!sc) return;
  CHECK_EQ(sc->ring, VSIM_RING_PACKED);
  CHECK_EQ(sc->queue_size, 12); /* packed rings need no power of two */
  CHECK(sc->steps[0].sector == UINT64_MAX);
  CHECK_EQ(sc->steps[0].len, 512);
  CHECK_EQ(sc->steps[0].queue, 0);
  CHECK_EQ(sc->steps[1].len, 1024); /* taken from expect_data */
  CHECK_EQ(sc->steps[2].type, UINT32_MAX);
  CHECK_EQ(sc->steps[2].len, 0);
  CHECK_EQ(sc->steps[2].sector, 0);
  CHECK_EQ(sc->steps[3].data.kind, VSIM_DATA_BYTES);
  CHECK_EQ(sc->steps[3].data.len, 0);
  CHECK_EQ(sc->steps[4].flags, 0);
  CHECK_EQ(sc->steps[1].line, 3);
  CHECK_EQ(sc->steps[1].col, 3);
  CHECK(sc->has_expect_violations);
  CHECK_EQ(sc->nexpect_violations, 0);
  vsim_scenario_free(sc);
}

/* ---- errors: one test per class, exact position and path ------------------- */

static void test_error_syntax(void) {
  EXPECT_ERR("{\n  \"name\": \"x\",\n  }", "t.json:3:3: field '<json>': string or '}' expected near '}'");
  EXPECT_ERR("", "t.json:1:1: field '<json>': '[' or '{' expected near end of file");
  EXPECT_ERR("{\"name\": \"a\",\n \"name\": \"b\"}", "t.json:2:7: field '<json>': duplicate object key near '\"name\"'");
  EXPECT_ERR("  [1, 2]", "t.json:1:3: field '<root>': a scenario must be a JSON object, got an array");
  EXPECT_ERR("{\"name\": \"\\u0000\"}", "t.json:1:17: field '<json>': \\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'");
}

static void test_error_unknown_top_field(void) {
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\",\n \"steps\": [], \"nmae\": 1}",
             "t.json:2:23: field 'nmae': unknown field, did you mean 'name'?");
  EXPECT_ERR_PREFIX("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [], \"zzzzzzz\": 1}",
                    "t.json:1:56: field 'zzzzzzz': unknown field (allowed here: name, description, device,");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [], \"expect\": {\"kiks\": 1}}",
             "t.json:1:64: field 'expect.kiks': unknown field, did you mean 'kicks'?");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [], \"memory\": [{\"base\": 0, \"len\": 1, \"acess\": \"rw\"}]}",
             "t.json:1:87: field 'memory[0].acess': unknown field, did you mean 'access'?");
}

static void test_error_unknown_step_field(void) {
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.read\", \"sectr\": 1}"),
             "t.json:3:31: field 'steps[1].sectr': unknown field, did you mean 'sector'?");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.read\", \"sector\": 1, \"data\": \"00\"}"),
             "t.json:3:43: field 'steps[1].data': not allowed for op 'blk.read' (allowed: op, comment, "
             "queue, sector, len, expect_status, expect_data, expect_data_written, framing)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"init\", \"queue\": 0}"),
             "t.json:3:27: field 'steps[1].queue': not allowed for op 'init' (allowed: op, comment, driver_ok, accept_features)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"wait\", \"xyzzy\": 0}"),
             "t.json:3:27: field 'steps[1].xyzzy': unknown field for op 'wait' (allowed: op, comment)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.write\", \"sector\": 1, \"data\": {\"patern\": 1, \"len\": 2}}"),
             "t.json:3:55: field 'steps[1].data.patern': unknown field, did you mean 'pattern'?");
  /* framing: a name of enum vsim_framing, on blk.read / blk.write / blk.flush only */
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.read\", \"sector\": 1, \"framing\": \"sideways\"}"),
             "t.json:3:46: field 'steps[1].framing': unknown framing 'sideways' (expected one of usual, "
             "header-split, merged, odd-split, zero-len, indirect-write, direct-then-indirect)");
  EXPECT_ERR_PREFIX(STEP_DOC("{\"op\": \"blk.get_id\", \"framing\": \"merged\"}"),
                    "t.json:3:35: field 'steps[1].framing': not allowed for op 'blk.get_id'");
  vsim_scenario *sc = expect_ok_at(__LINE__, STEP_DOC("{\"op\": \"blk.flush\", \"framing\": \"zero-len\"}"));
  CHECK(sc && sc->steps[1].framing == VSIM_FRAMING_ZERO_LEN);
  vsim_scenario_free(sc);
}

static void test_error_wrong_type(void) {
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"queue_size\": \"eight\", \"steps\": []}",
             "t.json:1:46: field 'queue_size': expected an integer or a \"0x...\" hex string (at most 64 bits), got 'eight'");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"driver_poll\": 1, \"steps\": []}",
             "t.json:1:47: field 'driver_poll': expected true or false, got an integer");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"seed\": 1.5, \"steps\": []}",
             "t.json:1:40: field 'seed': expected an integer, got a real number");
  EXPECT_ERR("{\"name\": 7, \"device\": \"blk\", \"steps\": []}",
             "t.json:1:10: field 'name': expected a string, got an integer");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": {}}",
             "t.json:1:41: field 'steps': expected an array of steps, got an object");
  EXPECT_ERR(STEP_DOC("[\"init\"]"), "t.json:3:3: field 'steps[1]': expected an object, got an array");
  EXPECT_ERR(STEP_DOC("{\"op\": null}"), "t.json:3:10: field 'steps[1].op': expected a string, got null");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"device_config\": {\"a\": 1.5}, \"steps\": []}",
             "t.json:1:55: field 'device_config.a': expected a string, an integer or a boolean, got a real number");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.write\", \"sector\": 1, \"data\": 5}"),
             "t.json:3:44: field 'steps[1].data': expected a hex string or a {\"pattern\"|\"fill\", \"len\"} object, got an integer");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.read\", \"sector\": 1, \"comment\": 3}"),
             "t.json:3:46: field 'steps[1].comment': expected a string, got an integer");
}

static void test_error_out_of_range(void) {
  /* queue.enable's size: within the rings laid out (queue_size), a power of two */
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [{\"op\": \"queue.enable\", \"value\": 16}]}",
             "t.json:1:74: field 'steps[0].value': 16 is out of range 1..8");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [{\"op\": \"queue.enable\", \"value\": 3}]}",
             "t.json:1:74: field 'steps[0].value': queue size 3 is not a power of two");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"num_queues\": 65, \"steps\": []}",
             "t.json:1:46: field 'num_queues': 65 is out of range 1..64");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"queue_size\": 0, \"steps\": []}",
             "t.json:1:46: field 'queue_size': 0 is out of range 1..32768");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"queue_size\": 65536, \"steps\": []}",
             "t.json:1:46: field 'queue_size': 65536 is out of range 1..32768");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"arena_size\": \"0x40000001\", \"steps\": []}",
             "t.json:1:46: field 'arena_size': 1073741825 is out of range 65536..1073741824");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"device_batch\": 4097, \"steps\": []}",
             "t.json:1:48: field 'device_batch': 4097 is out of range 1..4096");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"seed\": -1, \"steps\": []}",
             "t.json:1:40: field 'seed': must not be negative (got -1)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"seed\": \"0x10000000000000000\", \"steps\": []}",
             "t.json:1:40: field 'seed': expected an integer or a \"0x...\" hex string (at most 64 bits), got '0x10000000000000000'");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"queue_size\": 16, \"queue_max\": 8, \"steps\": []}",
             "t.json:1:63: field 'queue_max': queue_size 16 exceeds queue_max 8");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"queue_size\": 512, \"steps\": []}",
             "t.json:1:46: field 'queue_size': queue_size 512 exceeds queue_max 256 (the default; set \"queue_max\")");
  EXPECT_ERR(STEP_DOC("{\"op\": \"fault.delay_irq\", \"value\": 0}"),
             "t.json:3:38: field 'steps[1].value': 0 is out of range 1..1000000");
  EXPECT_ERR(STEP_DOC("{\"op\": \"raw.avail_idx\", \"value\": 65536}"),
             "t.json:3:36: field 'steps[1].value': 65536 is out of range 0..65535");
  EXPECT_ERR(STEP_DOC("{\"op\": \"kick\", \"value\": \"0x100000000\"}"),
             "t.json:3:27: field 'steps[1].value': 4294967296 is out of range 0..4294967295");
  EXPECT_ERR(STEP_DOC("{\"op\": \"raw.avail\", \"heads\": [1, 65536]}"),
             "t.json:3:36: field 'steps[1].heads[1]': 65536 is out of range 0..65535");
  EXPECT_ERR(STEP_DOC("{\"op\": \"raw.avail\", \"heads\": []}"),
             "t.json:3:32: field 'steps[1].heads': needs at least one head");
  EXPECT_ERR(STEP_DOC("{\"op\": \"raw.desc\", \"index\": 8, \"addr\": 0, \"len\": 1}"),
             "t.json:3:31: field 'steps[1].index': descriptor index 8 out of range (queue_size is 8)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"raw.write\", \"addr\": \"0xfffff\", \"data\": \"0102\"}"),
             "t.json:3:31: field 'steps[1].addr': write of 2 bytes at 0xfffff goes past the end of the arena (arena_size 0x100000)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.read\", \"sector\": 0, \"len\": 16777217}"),
             "t.json:3:42: field 'steps[1].len': 16777217 is out of range 0..16777216");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 256, \"len\": 1}}"),
             "t.json:3:53: field 'steps[1].data.fill': 256 is out of range 0..255");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [],\n"
             " \"memory\": [{\"base\": \"0xff000\", \"len\": \"0x2000\", \"access\": \"rw\"}]}",
             "t.json:2:40: field 'memory[0].len': region [0xff000, +0x2000) goes past the end of the arena (arena_size 0x100000)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [], \"expect\": {\"kicks\": {\"min\": 3, \"max\": 2}}}",
             "t.json:1:65: field 'expect.kicks': min 3 is above max 2");
  EXPECT_ERR_PREFIX("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [], \"memory\": [{}, {}, {}, {}, {}, {}, {}, {}, {}]}",
                    "t.json:1:55: field 'memory': too many regions (9; at most 8)");
}

static void test_error_heads_limit(void) {
  char doc[2048];
  int n = snprintf(doc, sizeof(doc), "{\"name\": \"t\", \"device\": \"blk\", \"steps\": [{\"op\": \"raw.avail\", \"heads\": [0");
  for (int i = 1; i <= VSIM_SCENARIO_MAX_HEADS; i++) n += snprintf(doc + n, sizeof(doc) - (size_t)n, ", %d", i);
  snprintf(doc + n, sizeof(doc) - (size_t)n, "]}]}");
  EXPECT_ERR(doc, "t.json:1:71: field 'steps[0].heads': too many heads (65; at most 64)");
}

static void test_error_unknown_names(void) {
  EXPECT_ERR_PREFIX(STEP_DOC("{\"op\": \"blk.raed\"}"),
                    "t.json:3:10: field 'steps[1].op': unknown op 'blk.raed' (expected one of init, reset, wait, poll, kick, blk.read,");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"offered_features\": [\"VERSION1\"], \"steps\": []}",
             "t.json:1:53: field 'offered_features[0]': unknown feature 'VERSION1' for device 'blk', did you mean 'VERSION_1'?");
  EXPECT_ERR_PREFIX("{\"name\": \"t\", \"device\": \"blk\", \"accept_features\": [\"EVENT_IDX\", \"bit:64\"], \"steps\": []}",
                    "t.json:1:65: field 'accept_features[1]': unknown feature 'bit:64' for device 'blk' (expected one of NOTIFY_ON_EMPTY,");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"mutants\": [\"dev.skip-iqr\"], \"steps\": []}",
             "t.json:1:44: field 'mutants[0]': unknown mutant 'dev.skip-iqr', did you mean 'dev.skip-irq'? (see include/virtiosim/mutants.h)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"mutants\": [\"nope\"], \"steps\": []}",
             "t.json:1:44: field 'mutants[0]': unknown mutant 'nope' (see include/virtiosim/mutants.h)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [], \"expect\": {\"violations\": [\"no.such-check\"]}}",
             "t.json:1:71: field 'expect.violations[0]': unknown check id 'no.such-check' (see include/virtiosim/check_list.h)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"ccw\", \"steps\": []}",
             "t.json:1:25: field 'device': unknown device 'ccw' (expected one of blk, fs, console, input, net, gpu)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"transport\": \"ccw\", \"steps\": []}",
             "t.json:1:45: field 'transport': unknown transport 'ccw' (expected one of mmio, pci)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"policy\": \"round_robin\", \"steps\": []}",
             "t.json:1:42: field 'policy': unknown policy 'round_robin', did you mean 'round-robin'? (expected one of scripted, round-robin, random)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"expect\", \"status_has\": [\"DRIVER_OKAY\"]}"),
             "t.json:3:35: field 'steps[1].status_has[0]': unknown status bit 'DRIVER_OKAY', did you mean 'DRIVER_OK'? (expected one of ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK, NEEDS_RESET, FAILED)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"raw.desc\", \"index\": 0, \"addr\": 0, \"len\": 1, \"flags\": [\"NEXT\", \"READ\"]}"),
             "t.json:3:73: field 'steps[1].flags[1]': unknown descriptor flag 'READ' (expected one of NEXT, WRITE, INDIRECT, AVAIL, USED)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.flush\", \"expect_status\": \"ERR\"}"),
             "t.json:3:40: field 'steps[1].expect_status': unknown status 'ERR', did you mean 'IOERR'? (expected one of OK, IOERR, UNSUPP, ERROR)");
  /* "ERROR": either error status */
  {
    vsim_scenario *sc = expect_ok_at(__LINE__, STEP_DOC("{\"op\": \"blk.flush\", \"expect_status\": \"ERROR\"}"));
    if (sc) {
      CHECK(sc->steps[1].has_expect_status && sc->steps[1].expect_status == VSIM_BLK_S_ERROR);
      vsim_scenario_free(sc);
    }
  }
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [], \"memory\": [{\"base\": 0, \"len\": 1, \"access\": \"ro\"}]}",
             "t.json:1:88: field 'memory[0].access': unknown access 'ro', did you mean 'rw'? (expected one of rw, none, driver-only, device-ro)");
}

static void test_error_duplicates_and_conflicts(void) {
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"offered_features\": [\"VERSION_1\", \"bit:32\"], \"steps\": []}",
             "t.json:1:66: field 'offered_features[1]': 'bit:32' is listed twice");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [], \"expect\": {\"violations\": [\"liveness.stall\", \"liveness.stall\"]}}",
             "t.json:1:89: field 'expect.violations[1]': 'liveness.stall' is listed twice");
  EXPECT_ERR(STEP_DOC("{\"op\": \"expect\", \"status_has\": [\"FAILED\"], \"status_lacks\": [\"FAILED\"]}"),
             "t.json:3:62: field 'steps[1].status_lacks': a status bit cannot be both in status_has and status_lacks");
  EXPECT_ERR(STEP_DOC("{\"op\": \"expect\"}"),
             "t.json:3:3: field 'steps[1]': an expect step needs \"status_has\" or \"status_lacks\"");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.discard\", \"sector\": 0, \"nsectors\": 1, \"flags\": 1, \"unmap\": true}"),
             "t.json:3:74: field 'steps[1].unmap': give either \"flags\" or \"unmap\", not both");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.read\", \"sector\": 0, \"len\": 4, \"expect_data\": \"00\"}"),
             "t.json:3:60: field 'steps[1].expect_data': expect_data has 1 bytes but len is 4");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.read\", \"sector\": 0, \"expect_data\": \"00\", \"expect_data_written\": true}"),
             "t.json:3:79: field 'steps[1].expect_data_written': give either \"expect_data\" or \"expect_data_written\", not both");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.get_id\", \"expect_data\": {\"fill\": 65, \"len\": 21}}"),
             "t.json:3:39: field 'steps[1].expect_data': a device id has at most 20 bytes, expect_data has 21");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 1, \"pattern\": 2, \"len\": 1}}"),
             "t.json:3:44: field 'steps[1].data': a data object needs exactly one of \"pattern\" or \"fill\"");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [], \"expect\": {\"completed\": {}}}",
             "t.json:1:69: field 'expect.completed': give \"min\", \"max\" or both");
  EXPECT_ERR("{\"name\": \"\", \"device\": \"blk\", \"steps\": []}", "t.json:1:10: field 'name': must not be empty");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"device_config\": {\"\": 1}, \"steps\": []}",
             "t.json:1:54: field 'device_config.': empty key");
}

static void test_error_split_queue_size(void) {
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\",\n  \"queue_size\": 12, \"steps\": []}",
             "t.json:2:17: field 'queue_size': 12 is not a power of two (required with \"ring\": \"split\")");
  /* Order in the file does not matter: ring is read before queue_size. */
  vsim_scenario *sc = EXPECT_OK("{\"name\": \"t\", \"device\": \"blk\", \"queue_size\": 12, \"ring\": \"packed\", \"steps\": []}");
  vsim_scenario_free(sc);
  sc = EXPECT_OK("{\"name\": \"t\", \"device\": \"blk\", \"queue_size\": 32768, \"queue_max\": 32768, \"steps\": []}");
  vsim_scenario_free(sc);
}

static void test_error_queue_out_of_range(void) {
  EXPECT_ERR(STEP_DOC("{\"op\": \"poll\", \"queue\": 2}"),
             "t.json:3:27: field 'steps[1].queue': queue 2 out of range (num_queues is 2)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.read\", \"queue\": 70000, \"sector\": 0}"),
             "t.json:3:31: field 'steps[1].queue': 70000 is out of range 0..65535");
}

static void test_error_bad_hex(void) {
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.write\", \"sector\": 0, \"data\": \"abc\"}"),
             "t.json:3:44: field 'steps[1].data': bad hex: odd number of hex digits (3)");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.write\", \"sector\": 0, \"data\": \"0x00\"}"),
             "t.json:3:44: field 'steps[1].data': bad hex: 'x' at offset 1 is not a hex digit");
  EXPECT_ERR(STEP_DOC("{\"op\": \"raw.write\", \"addr\": 0, \"data\": \"00\\n11\"}"),
             "t.json:3:42: field 'steps[1].data': bad hex: byte 0x0a at offset 2 is not a hex digit");
  EXPECT_ERR(STEP_DOC("{\"op\": \"raw.desc\", \"index\": 0, \"addr\": \"0x\", \"len\": 1}"),
             "t.json:3:42: field 'steps[1].addr': expected an integer or a \"0x...\" hex string (at most 64 bits), got '0x'");
  EXPECT_ERR(STEP_DOC("{\"op\": \"raw.desc\", \"index\": 0, \"addr\": \"12\", \"len\": 1}"),
             "t.json:3:42: field 'steps[1].addr': expected an integer or a \"0x...\" hex string (at most 64 bits), got '12'");
}

static void test_error_missing_required(void) {
  EXPECT_ERR("\n  {\"device\": \"blk\", \"steps\": []}", "t.json:2:3: field 'name': missing required field");
  EXPECT_ERR("{\"name\": \"t\", \"steps\": []}", "t.json:1:1: field 'device': missing required field");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\"}", "t.json:1:1: field 'steps': missing required field");
  EXPECT_ERR(STEP_DOC("{\"queue\": 0}"), "t.json:3:3: field 'steps[1].op': missing required field");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.write\", \"sector\": 0}"),
             "t.json:3:3: field 'steps[1].data': missing required field for op 'blk.write'");
  EXPECT_ERR(STEP_DOC("{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 1}}"),
             "t.json:3:44: field 'steps[1].data.len': missing required field");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [],\n \"memory\": [{\"base\": 0, \"len\": 1}]}",
             "t.json:2:13: field 'memory[0].access': missing required field");
}

/* The field path and position survive odd keys: escapes, UTF-8, quotes. */
static void test_error_positions_with_escapes(void) {
  EXPECT_ERR("{\"n\\u0061me\": \"t\", \"device\": \"blk\", \"steps\": [], \"\\u00e9t\\u00e9\": 1}",
             "t.json:1:67: field '?\?t?\?': unknown field (allowed here: name, description, device, transport, ring, "
             "queue_size, queue_max, num_queues, arena_size, seed, policy, max_steps, repeat, device_batch, driver_batch, "
             "device_latency, device_in_order_batch, device_irq_coalesce, device_poll, offered_features, "
             "accept_features, refuse_features, driver_poll, auto_init, device_scripted, mutants, backend, memory, device_config, steps, expect, msix_vectors)");
  /* "é" is one column, as in jansson's own messages. */
  EXPECT_ERR("{\"name\": \"\xc3\xa9\", \"device\": \"blk\", \"steps\": [], \"x'y\": 1}",
             "t.json:1:52: field 'x?y': unknown field (allowed here: name, description, device, transport, ring, "
             "queue_size, queue_max, num_queues, arena_size, seed, policy, max_steps, repeat, device_batch, driver_batch, "
             "device_latency, device_in_order_batch, device_irq_coalesce, device_poll, offered_features, "
             "accept_features, refuse_features, driver_poll, auto_init, device_scripted, mutants, backend, memory, device_config, steps, expect, msix_vectors)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [\n\t{\"op\": \"a\\\"b\"}]}",
             "t.json:2:9: field 'steps[0].op': unknown op 'a\"b' (expected one of init, reset, wait, poll, kick, "
             "blk.read, blk.write, blk.flush, blk.get_id, blk.discard, blk.write_zeroes, blk.raw, raw.desc, "
             "raw.avail, raw.avail_idx, raw.avail_flags, raw.used_event, raw.write, fault.device_reset, "
             "fault.delay_irq, fault.needs_reset, expect, driver_ok, raw.pdesc, raw.ppublish, queue.reset, queue.enable, "
             "dev.used, dev.used_idx, dev.used_flags, dev.avail_event, dev.pused, dev.pevent, dev.irq, dev.write, "
             "dev.config, dev.needs_reset, mmio.read, mmio.write, req.raw, host.input, expect.output, host.event, gpu.expect_scanout, pci.cfg.read, pci.cfg.write)");
}

/* ---- the scripted device ------------------------------------------------- */

/* A scripted-device document with one step on line 3 at column 3. */
#define DEV_DOC(step)                                                                   \
  "{\"name\": \"t\", \"device\": \"blk\", \"device_scripted\": true, \"steps\": [\n" \
  "  {\"op\": \"init\"},\n"                                                             \
  "  " step "\n"                                                                        \
  "]}\n"

static void test_scripted_device(void) {
  vsim_scenario *sc = EXPECT_OK(
      "{\"name\": \"t\", \"device\": \"blk\", \"device_scripted\": true, \"num_queues\": 2, \"steps\": [\n"
      "  {\"op\": \"dev.used\"},\n"
      "  {\"op\": \"dev.used\", \"queue\": 1, \"id\": \"0xffffffff\", \"len\": \"0xffffffff\", \"publish\": false,"
      "   \"status\": 255, \"irq\": false},\n"
      "  {\"op\": \"dev.used\", \"id\": \"last\", \"skip\": 0},\n"
      "  {\"op\": \"dev.pused\", \"id\": \"next\", \"flags\": [\"AVAIL\", \"WRITE\"], \"exact\": true, \"skip\": 3,"
      "   \"irq\": true},\n"
      "  {\"op\": \"dev.used_idx\", \"value\": 65535},\n"
      "  {\"op\": \"dev.used_flags\", \"value\": 1},\n"
      "  {\"op\": \"dev.avail_event\", \"value\": 7},\n"
      "  {\"op\": \"dev.pevent\", \"flags\": \"DESC\", \"value\": \"0x8003\"},\n"
      "  {\"op\": \"dev.pevent\", \"flags\": 3},\n"
      "  {\"op\": \"dev.irq\", \"queue\": 1},\n"
      "  {\"op\": \"dev.write\", \"addr\": \"0x1000\", \"data\": \"ff\"},\n"
      "  {\"op\": \"dev.config\", \"offset\": 8, \"data\": {\"fill\": 0, \"len\": 256}, \"irq\": false},\n"
      "  {\"op\": \"dev.needs_reset\"}\n"
      "]}\n");
  if (sc) {
    CHECK(sc->device_scripted);
    CHECK_EQ(sc->steps[0].op, VSIM_OP_DEV_USED);
    CHECK_EQ(sc->steps[0].dev_id, VSIM_DEV_ID_NEXT);
    CHECK(!sc->steps[0].no_publish && !sc->steps[0].has_irq && !sc->steps[0].has_status && !sc->steps[0].has_skip);
    CHECK_EQ(sc->steps[1].dev_id, VSIM_DEV_ID_VALUE);
    CHECK_EQ(sc->steps[1].id, 0xffffffffu);
    CHECK_EQ(sc->steps[1].len, 0xffffffffu);
    CHECK(sc->steps[1].no_publish && sc->steps[1].has_irq && !sc->steps[1].irq);
    CHECK(sc->steps[1].has_status && sc->steps[1].status == 255);
    CHECK_EQ(sc->steps[2].dev_id, VSIM_DEV_ID_LAST);
    CHECK(sc->steps[2].has_skip && sc->steps[2].skip == 0);
    CHECK_EQ(sc->steps[3].dev_id, VSIM_DEV_ID_NEXT);
    CHECK_EQ(sc->steps[3].flags, (1u << VRING_PACKED_DESC_F_AVAIL) | VRING_DESC_F_WRITE);
    CHECK(sc->steps[3].exact && sc->steps[3].irq && sc->steps[3].skip == 3);
    CHECK_EQ(sc->steps[4].value, 65535);
    CHECK_EQ(sc->steps[7].flags, VRING_PACKED_EVENT_FLAG_DESC);
    CHECK_EQ(sc->steps[7].value, 0x8003);
    CHECK_EQ(sc->steps[8].flags, 3);
    CHECK_EQ(sc->steps[11].offset, 8);
    CHECK_EQ(sc->steps[11].data.len, 256);
    CHECK_EQ(sc->steps[12].op, VSIM_OP_DEV_NEEDS_RESET);
  }
  vsim_scenario_free(sc);

  /* dev.* needs the scripted mode: the device model would serve the same rings */
  EXPECT_ERR(STEP_DOC("{\"op\": \"dev.irq\"}"),
             "t.json:3:10: field 'steps[1].op': op 'dev.irq' needs \"device_scripted\": true (the device "
             "model would serve the same rings)");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.used\", \"id\": \"first\"}"),
             "t.json:3:28: field 'steps[1].id': unknown id 'first' (expected one of next, last)");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.used\", \"id\": -1}"),
             "t.json:3:28: field 'steps[1].id': must not be negative (got -1)");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.used\", \"id\": \"0x100000000\"}"),
             "t.json:3:28: field 'steps[1].id': 4294967296 is out of range 0..4294967295");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.used\", \"status\": 256}"),
             "t.json:3:32: field 'steps[1].status': 256 is out of range 0..255");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.used\", \"publish\": 0}"),
             "t.json:3:33: field 'steps[1].publish': expected true or false, got an integer");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.used\", \"skip\": 32769}"),
             "t.json:3:30: field 'steps[1].skip': 32769 is out of range 0..32768");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.used\", \"flags\": 1}"),
             "t.json:3:31: field 'steps[1].flags': not allowed for op 'dev.used' (allowed: op, comment, "
             "queue, len, id, publish, irq, skip, status)");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.pused\", \"irc\": true}"),
             "t.json:3:30: field 'steps[1].irc': unknown field, did you mean 'irq'?");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.pevent\"}"),
             "t.json:3:3: field 'steps[1].flags': missing required field for op 'dev.pevent'");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.pevent\", \"flags\": \"OFF\"}"),
             "t.json:3:33: field 'steps[1].flags': unknown event flag 'OFF' (expected one of ENABLE, DISABLE, DESC)");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.used_idx\", \"value\": 65536}"),
             "t.json:3:35: field 'steps[1].value': 65536 is out of range 0..65535");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.config\", \"data\": {\"fill\": 1, \"len\": 257}}"),
             "t.json:3:32: field 'steps[1].data': 257 bytes; a config space change writes at most 256");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.config\", \"offset\": 65536, \"data\": \"00\"}"),
             "t.json:3:34: field 'steps[1].offset': 65536 is out of range 0..65535");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.write\", \"addr\": \"0xfffff\", \"data\": \"0000\"}"),
             "t.json:3:31: field 'steps[1].addr': write of 2 bytes at 0xfffff goes past the end of the arena "
             "(arena_size 0x100000)");
  EXPECT_ERR(DEV_DOC("{\"op\": \"dev.irq\", \"queue\": 1}"),
             "t.json:3:30: field 'steps[1].queue': queue 1 out of range (num_queues is 1)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"device_scripted\": 1, \"steps\": []}",
             "t.json:1:51: field 'device_scripted': expected true or false, got an integer");
}

/* mmio.read / mmio.write: offset in the window, width 1/2/4, a 32-bit value,
 * "value" and "unchanged" not together. */
static void test_mmio_ops(void) {
  char err[VSIM_ERR_MAX];
  const char *ok = "{\"name\": \"t\", \"device\": \"blk\", \"steps\": ["
                   "{\"op\": \"mmio.write\", \"offset\": \"0x30\", \"value\": \"0xffffffff\"},"
                   "{\"op\": \"mmio.read\", \"offset\": 52, \"value\": 0},"
                   "{\"op\": \"mmio.read\", \"offset\": 256, \"len\": 2, \"unchanged\": true}]}";
  vsim_scenario *sc = vsim_scenario_load_buffer(ok, strlen(ok), "t.json", err, sizeof err);
  CHECK(sc != NULL);
  if (sc) {
    CHECK_EQ(sc->steps[0].op, VSIM_OP_MMIO_WRITE);
    CHECK_EQ(sc->steps[0].offset, 0x30);
    CHECK(sc->steps[0].value == 0xffffffffu && sc->steps[0].len == 4);
    CHECK(sc->steps[1].op == VSIM_OP_MMIO_READ && sc->steps[1].has_value && sc->steps[1].value == 0);
    CHECK(sc->steps[2].unchanged && !sc->steps[2].has_value && sc->steps[2].len == 2);
    vsim_scenario_free(sc);
  }
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [{\"op\": \"mmio.read\", \"offset\": 4, \"len\": 3}]}",
             "t.json:1:82: field 'steps[0].len': register access width 3: expected 1, 2 or 4");
  EXPECT_ERR_PREFIX("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [{\"op\": \"mmio.read\", \"offset\": 4096}]}",
                    "t.json:1:72: field 'steps[0].offset': 4096 is out of range 0..4095");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [{\"op\": \"mmio.write\", \"offset\": 4}]}",
             "t.json:1:42: field 'steps[0].value': missing required field for op 'mmio.write'");
  EXPECT_ERR_PREFIX("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [{\"op\": \"mmio.read\", \"offset\": 4, \"value\": 1, \"unchanged\": true}]}",
                    "t.json:1:");
}

/* ---- req.raw: a request of any device type --------------------------------- */

/* A fs document whose step 1 (line 3, column 3) is `step`. */
#define FS_DOC(step)                                              \
  "{\"name\": \"t\", \"device\": \"fs\", \"steps\": [\n"            \
  "  {\"op\": \"req.raw\", \"queue\": 1, \"data\": \"0102030405060708\", \"len\": 16,\n" \
  "   \"expect_reply\": [{\"offset\": 0, \"width\": 4, \"save\": \"id\"}]},\n" \
  "  " step "\n"                                                  \
  "]}\n"

static void test_req_raw(void) {
  vsim_scenario *sc = EXPECT_OK(FS_DOC(
      "{\"op\": \"req.raw\", \"queue\": 1, \"data\": {\"fill\": 0, \"len\": 40}, \"len\": 96,"
      " \"patch\": [{\"offset\": 16, \"width\": 8, \"saved\": \"id\"}],"
      " \"expect_used_len\": {\"min\": 16},"
      " \"expect_reply\": ["
      "{\"name\": \"error\", \"offset\": 4, \"width\": 4, \"value\": 0},"
      "{\"offset\": 8, \"width\": 8, \"equals_sent\": 8},"
      "{\"offset\": 60, \"width\": 4, \"mask\": \"0xf000\", \"value\": \"0x4000\"},"
      "{\"offset\": 20, \"width\": 4, \"min\": 4096},"
      "{\"offset\": 16, \"data\": \"6869\"},"
      "{\"offset\": 24, \"width\": 8, \"save\": \"fh\"}]}"));
  if (sc) {
    CHECK_EQ(sc->num_queues, 2); /* the fs default: hiprio + one request queue */
    CHECK_EQ(sc->nsaved, 2);
    CHECK(strcmp(sc->saved_names[0], "id") == 0 && strcmp(sc->saved_names[1], "fh") == 0);
    const vsim_step *st = &sc->steps[1];
    CHECK_EQ(st->op, VSIM_OP_REQ_RAW);
    CHECK(st->queue == 1 && st->data.len == 40 && st->len == 96);
    CHECK(st->npatches == 1 && st->patches[0].offset == 16 && st->patches[0].width == 8 && st->patches[0].saved == 0);
    CHECK(st->expect_used_len.set && st->expect_used_len.min == 16 && st->expect_used_len.max == UINT64_MAX);
    CHECK_EQ(st->nfields, 6);
    CHECK(st->fields[0].kind == VSIM_FIELD_VALUE && strcmp(st->fields[0].name, "error") == 0);
    CHECK(st->fields[0].mask == 0xffffffffu && st->fields[0].save == -1);
    CHECK(st->fields[1].kind == VSIM_FIELD_ECHO && st->fields[1].sent_offset == 8 && st->fields[1].mask == UINT64_MAX);
    CHECK(st->fields[2].mask == 0xf000 && st->fields[2].value == 0x4000);
    CHECK(st->fields[3].kind == VSIM_FIELD_RANGE && st->fields[3].min == 4096 && st->fields[3].max == 0xffffffffu);
    CHECK(st->fields[4].kind == VSIM_FIELD_BYTES && st->fields[4].data.len == 2);
    CHECK(st->fields[5].kind == VSIM_FIELD_SAVE_ONLY && st->fields[5].save == 1);
    CHECK_EQ(st->fields[0].line, 4);
    vsim_scenario_free(sc);
  }
  /* the shape of the request */
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"queue\": 1}"),
             "t.json:4:10: field 'steps[1].op': a request needs device-readable bytes (\"data\") or device-writable "
             "ones (\"len\" > 0)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"queue\": 2, \"len\": 8}"),
             "t.json:4:30: field 'steps[1].queue': queue 2 out of range (num_queues is 2)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"sector\": 1}"),
             "t.json:4:41: field 'steps[1].sector': not allowed for op 'req.raw' (allowed: op, comment, queue, len, data, "
             "patch, expect_used_len, expect_reply)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_used_len\": {\"min\": 9}}"),
             "t.json:4:50: field 'steps[1].expect_used_len': at least 9 bytes expected, but the request has only 8 "
             "device-writable bytes (len)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": []}"),
             "t.json:4:47: field 'steps[1].expect_reply': needs at least one entry");
  /* field checks */
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 6, \"width\": 4, \"value\": 0}]}"),
             "t.json:4:59: field 'steps[1].expect_reply[0].offset': a 4-byte field at offset 6 goes past the 8 "
             "device-writable bytes (the step's len)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"width\": 3, \"value\": 0}]}"),
             "t.json:4:71: field 'steps[1].expect_reply[0].width': field width 3: expected 1, 2, 4 or 8 (bytes of a "
             "little-endian integer)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"value\": 0}]}"),
             "t.json:4:48: field 'steps[1].expect_reply[0].width': missing required field");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"width\": 1, \"value\": 256}]}"),
             "t.json:4:83: field 'steps[1].expect_reply[0].value': 256 is out of range 0..255");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"width\": 2, \"mask\": 15, "
                    "\"value\": 16}]}"),
             "t.json:4:95: field 'steps[1].expect_reply[0].value': value 0x10 has bits outside mask 0xf: it can never "
             "match");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"width\": 2, \"value\": 1, "
                    "\"min\": 1}]}"),
             "t.json:4:48: field 'steps[1].expect_reply[0]': give exactly one of \"value\", \"min\"/\"max\", "
             "\"equals_sent\" or \"data\" (or only \"save\")");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"width\": 2}]}"),
             "t.json:4:48: field 'steps[1].expect_reply[0]': give exactly one of \"value\", \"min\"/\"max\", "
             "\"equals_sent\" or \"data\" (or only \"save\")");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"width\": 2, \"min\": 5, "
                    "\"max\": 4}]}"),
             "t.json:4:91: field 'steps[1].expect_reply[0].max': min 5 is above max 4");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"data\": \"0011\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"width\": 4, "
                    "\"equals_sent\": 0}]}"),
             "t.json:4:105: field 'steps[1].expect_reply[0].equals_sent': a 4-byte field at offset 0 of what is sent "
             "goes past the 2 device-readable bytes (the step's data)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 4, \"data\": \"0011223344\"}]}"),
             "t.json:4:70: field 'steps[1].expect_reply[0].data': 5 bytes at offset 4 go past the 8 device-writable "
             "bytes (the step's len)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"data\": \"00\", \"width\": 1}]}"),
             "t.json:4:85: field 'steps[1].expect_reply[0].width': not allowed with \"data\" (bytes are compared as "
             "they are)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"ofset\": 0, \"width\": 1, \"value\": 0}]}"),
             "t.json:4:58: field 'steps[1].expect_reply[0].ofset': unknown field, did you mean 'offset'?");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"len\": 8, \"expect_reply\": [{\"offset\": 0, \"width\": 2, \"mask\": 0, "
                    "\"value\": 0}]}"),
             "t.json:4:82: field 'steps[1].expect_reply[0].mask': a zero mask compares nothing");
  /* patches: only values an earlier step saves */
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"data\": \"0011\", \"patch\": [{\"offset\": 0, \"width\": 2, \"saved\": \"ix\"}]}"),
             "t.json:4:82: field 'steps[1].patch[0].saved': unknown saved value 'ix', did you mean 'id'? (names saved "
             "by earlier steps)");
  EXPECT_ERR(FS_DOC("{\"op\": \"req.raw\", \"data\": \"0011\", \"patch\": [{\"offset\": 1, \"width\": 2, \"saved\": \"id\"}]}"),
             "t.json:4:58: field 'steps[1].patch[0].offset': a 2-byte patch at offset 1 goes past the 2 device-readable "
             "bytes (the step's data)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"fs\", \"steps\": [{\"op\": \"req.raw\", \"data\": \"0011\", \"len\": 8, "
             "\"patch\": [{\"offset\": 0, \"width\": 2, \"saved\": \"n\"}], "
             "\"expect_reply\": [{\"offset\": 0, \"width\": 2, \"save\": \"n\"}]}]}",
             "t.json:1:130: field 'steps[0].patch[0].saved': no earlier step saves a value named 'n' (\"save\" in an "
             "expect_reply entry)");
  /* the device type */
  EXPECT_ERR(FS_DOC("{\"op\": \"blk.flush\"}"),
             "t.json:4:10: field 'steps[1].op': op 'blk.flush' needs device \"blk\" (this scenario drives a fs device: "
             "use req.raw)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"fs\", \"num_queues\": 1, \"steps\": []}",
             "t.json:1:45: field 'num_queues': a fs device has a hiprio queue and at least one request queue: "
             "num_queues must be at least 2 (the default for fs)");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"fs\", \"device_scripted\": true, \"steps\": []}",
             "t.json:1:50: field 'device_scripted': a scripted device needs a built-in model to answer the transport; "
             "device 'fs' has none");
  /* req.raw is any device type's: blk takes it too */
  sc = EXPECT_OK("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [{\"op\": \"req.raw\", \"data\": {\"fill\": 0, "
                 "\"len\": 16}, \"len\": 1, \"expect_used_len\": 1, \"expect_reply\": [{\"offset\": 0, \"width\": 1, "
                 "\"value\": 0}]}]}");
  vsim_scenario_free(sc);
}

/* "backend": the scripted vhost-user back-end only, its file resolved
 * against the scenario's directory and readable at load. */
static void test_backend_field(void) {
  char dir[512], text[1024], err[VSIM_ERR_MAX] = "", name[600];
  repo_path(dir, sizeof dir, "scenarios/mutants");
  snprintf(name, sizeof name, "%s/x.json", dir);
  const char *doc = "{\"name\": \"t\", \"device\": \"blk\", \"steps\": [],\n \"backend\": %s}";
  snprintf(text, sizeof text, doc, "\"vhost-user-script:vu-backend.vu-script\"");
  vsim_scenario *sc = vsim_scenario_load_buffer(text, strlen(text), name, err, sizeof err);
  if (!sc) fprintf(stderr, "  %s\n", err);
  CHECK(sc != NULL);
  char want[700];
  snprintf(want, sizeof want, "vhost-user-script:%s/vu-backend.vu-script", dir);
  CHECK(sc && sc->backend && strcmp(sc->backend, want) == 0);
  vsim_scenario_free(sc);
  /* without it: the built-in model */
  sc = EXPECT_OK("{\"name\": \"t\", \"device\": \"blk\", \"steps\": []}");
  CHECK(sc && sc->backend == NULL);
  vsim_scenario_free(sc);
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [],\n \"backend\": 5}",
             "t.json:2:13: field 'backend': expected a string, got an integer");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [],\n \"backend\": \"vhost-user:/tmp/s\"}",
             "t.json:2:13: field 'backend': expected \"vhost-user-script:FILE\" (the scripted back-end, FILE "
             "relative to the scenario); other back-ends are given on the command line (--backend), got "
             "'vhost-user:/tmp/s'");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [],\n \"backend\": \"vhost-user-script:\"}",
             "t.json:2:13: field 'backend': expected \"vhost-user-script:FILE\" (the scripted back-end, FILE "
             "relative to the scenario); other back-ends are given on the command line (--backend), got "
             "'vhost-user-script:'");
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [],\n \"backend\": \"vhost-user-script:/nonexistent/s.vu-script\"}",
             "t.json:2:13: field 'backend': cannot read the vhost-user script /nonexistent/s.vu-script: No such file or "
             "directory");
  /* relative to a name without a directory: the current one */
  EXPECT_ERR("{\"name\": \"t\", \"device\": \"blk\", \"steps\": [],\n \"backend\": \"vhost-user-script:no-such.vu-script\"}",
             "t.json:2:13: field 'backend': cannot read the vhost-user script no-such.vu-script: No such file or "
             "directory");
}

static void test_error_file(void) {
  char err[VSIM_ERR_MAX];
  vsim_scenario *sc = vsim_scenario_load_file("/nonexistent/x.json", err, sizeof(err));
  CHECK(sc == NULL);
  CHECK(strcmp(err, "/nonexistent/x.json:1:1: field '<file>': cannot read: No such file or directory") == 0);
  /* A tiny error buffer is truncated, never overrun (ASan watches). */
  char small[8];
  sc = vsim_scenario_load_buffer("{}", 2, "t.json", small, sizeof(small));
  CHECK(sc == NULL);
  CHECK(strcmp(small, "t.json:") == 0);
  sc = vsim_scenario_load_buffer("{}", 2, "t.json", NULL, 0);
  CHECK(sc == NULL);
}

/* ---- fixtures on disk ------------------------------------------------------ */

/* Each bad/X.json has X.err: what must follow the path in the message (a
 * prefix of it, so long "expected one of" lists need not be repeated). */
static void test_bad_fixtures(void) {
  char dir[512];
  repo_path(dir, sizeof(dir), "tests/data/scenarios/bad");
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  if (!d) return;
  int seen = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0) continue;
    char path[1024], errpath[1024], err[VSIM_ERR_MAX] = "";
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    snprintf(errpath, sizeof(errpath), "%s/%.*s.err", dir, (int)(n - 5), e->d_name);
    char *want = slurp(errpath, NULL);
    CHECK(want != NULL);
    vsim_scenario *sc = vsim_scenario_load_file(path, err, sizeof(err));
    CHECK(sc == NULL);
    vsim_scenario_free(sc);
    if (want) {
      want[strcspn(want, "\n")] = '\0';
      size_t pl = strlen(path);
      bool ok = strncmp(err, path, pl) == 0 && strncmp(err + pl, want, strlen(want)) == 0;
      if (!ok) fprintf(stderr, "  %s:\n    want: %s%s...\n    got:  %s\n", e->d_name, path, want, err);
      CHECK(ok);
    }
    free(want);
    seen++;
  }
  closedir(d);
  CHECK(seen >= 12);
}

/* Every ```json block in scenarios/README.md must load. */
static void test_readme_examples(void) {
  char path[512];
  repo_path(path, sizeof(path), "scenarios/README.md");
  char *md = slurp(path, NULL);
  CHECK(md != NULL);
  if (!md) return;
  int blocks = 0;
  for (char *p = strstr(md, "```json\n"); p; p = strstr(p, "```json\n")) {
    p += 8;
    char *end = strstr(p, "```");
    if (!end) break;
    char err[VSIM_ERR_MAX] = "";
    vsim_scenario *sc = vsim_scenario_load_buffer(p, (size_t)(end - p), "README.md", err, sizeof(err));
    if (!sc) fprintf(stderr, "  README example %d: %s\n", blocks + 1, err);
    CHECK(sc != NULL);
    vsim_scenario_free(sc);
    blocks++;
    p = end + 3;
  }
  CHECK(blocks >= 4);
  free(md);
}

/* ---- names ------------------------------------------------------------------ */

static void test_names(void) {
  CHECK_EQ(vsim_feature_bit_by_name("blk", "VERSION_1"), 32);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "NOTIFICATION_DATA"), 38);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "ZONED"), 17);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "LIFETIME"), 15);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "FLUSH"), VIRTIO_BLK_F_FLUSH);
  CHECK_EQ(vsim_feature_bit_by_name(NULL, "FLUSH"), -1); /* blk names need device blk */
  CHECK_EQ(vsim_feature_bit_by_name("net", "EVENT_IDX"), 29);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "bit:0"), 0);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "bit:63"), 63);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "bit:64"), -1);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "bit:"), -1);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "bit:1x"), -1);
  CHECK_EQ(vsim_feature_bit_by_name("blk", "bit:007"), -1);
  CHECK_EQ(vsim_feature_bit_by_name("blk", NULL), -1);
  CHECK(strcmp(vsim_feature_name("blk", 28), "INDIRECT_DESC") == 0);
  CHECK(strcmp(vsim_feature_name("blk", 13), "DISCARD") == 0);
  CHECK(vsim_feature_name(NULL, 13) == NULL);
  CHECK(vsim_feature_name("blk", 63) == NULL);
  CHECK_EQ(vsim_status_bit_by_name("DRIVER_OK"), VIRTIO_CONFIG_S_DRIVER_OK);
  CHECK_EQ(vsim_status_bit_by_name("NEEDS_RESET"), VIRTIO_CONFIG_S_NEEDS_RESET);
  CHECK_EQ(vsim_status_bit_by_name("driver_ok"), -1);
  CHECK(strcmp(vsim_policy_name(VSIM_POLICY_ROUND_ROBIN), "round-robin") == 0);
  CHECK(strcmp(vsim_policy_name((enum vsim_policy)42), "?") == 0);
  CHECK(strcmp(vsim_op_name(VSIM_OP_BLK_WRITE_ZEROES), "blk.write_zeroes") == 0);
  CHECK(strcmp(vsim_op_name((enum vsim_op)0), "?") == 0);
  CHECK(strcmp(vsim_op_name((enum vsim_op)999), "?") == 0);
  /* Every op has a name, and every named feature maps back to itself. */
  for (int op = VSIM_OP_INIT; op <= VSIM_OP_EXPECT; op++) CHECK(strcmp(vsim_op_name((enum vsim_op)op), "?") != 0);
  for (size_t i = 0; vsim_feature_name_at("blk", i); i++) {
    const char *n = vsim_feature_name_at("blk", i);
    int bit = vsim_feature_bit_by_name("blk", n);
    CHECK(bit >= 0 && strcmp(vsim_feature_name("blk", (unsigned)bit), n) == 0);
  }
  CHECK(vsim_status_name_at(5) != NULL && vsim_status_name_at(6) == NULL);
}

/* ---- json_pos on its own ------------------------------------------------------ */

static void test_json_pos(void) {
  const char *t = "{\"a\": [10, {\"b\\u0022c\": \"x\"}, [1, [2, 3]]],\n \"s\": \"}]\\\"{\",\n \"z\":\n\n   true}";
  vsim_json_path p;
  vsim_json_loc loc;
  vsim_json_pos_path_init(&p);
  CHECK_EQ(vsim_json_pos_find(t, strlen(t), &p, &loc), 0);
  CHECK(loc.line == 1 && loc.col == 1);
  vsim_json_pos_push_key(&p, "a");
  vsim_json_pos_push_index(&p, 1);
  vsim_json_pos_push_key(&p, "b\"c");
  CHECK_EQ(vsim_json_pos_find(t, strlen(t), &p, &loc), 3);
  CHECK(loc.line == 1 && loc.col == 25);
  char buf[64];
  vsim_json_pos_format(&p, buf, sizeof(buf));
  CHECK(strcmp(buf, "a[1].b\"c") == 0);
  vsim_json_pos_pop(&p);
  vsim_json_pos_pop(&p);
  vsim_json_pos_push_index(&p, 2);
  vsim_json_pos_push_index(&p, 1);
  vsim_json_pos_push_index(&p, 1);
  CHECK_EQ(vsim_json_pos_find(t, strlen(t), &p, &loc), 4);
  CHECK(loc.line == 1 && loc.col == 39);
  /* Missing: falls back to the deepest existing value. */
  vsim_json_pos_pop(&p);
  vsim_json_pos_push_index(&p, 7);
  CHECK_EQ(vsim_json_pos_find(t, strlen(t), &p, &loc), 3);
  CHECK(loc.line == 1 && loc.col == 35);
  /* After a string holding brackets and an escaped quote; across blank lines. */
  vsim_json_pos_path_init(&p);
  vsim_json_pos_push_key(&p, "z");
  CHECK_EQ(vsim_json_pos_find(t, strlen(t), &p, &loc), 1);
  CHECK(loc.line == 5 && loc.col == 4);
  vsim_json_pos_push_key(&p, "deeper");
  CHECK_EQ(vsim_json_pos_find(t, strlen(t), &p, &loc), 1);
  CHECK(loc.line == 5 && loc.col == 4);
  /* Elements of an array, in one pass. */
  vsim_json_pos_path_init(&p);
  vsim_json_pos_push_key(&p, "a");
  vsim_json_loc locs[8];
  CHECK_EQ(vsim_json_pos_elements(t, strlen(t), &p, locs, 8), 3);
  CHECK(locs[0].col == 8 && locs[1].col == 12 && locs[2].col == 31);
  CHECK_EQ(vsim_json_pos_elements(t, strlen(t), &p, locs, 2), 2);
  /* Deep paths are counted, shown with "...", and never overflow. */
  vsim_json_pos_path_init(&p);
  for (int i = 0; i < VSIM_JSON_PATH_MAX + 3; i++) vsim_json_pos_push_index(&p, 0);
  CHECK_EQ(p.depth, VSIM_JSON_PATH_MAX + 3);
  vsim_json_pos_format(&p, buf, sizeof(buf));
  CHECK(strstr(buf, "...") != NULL);
  CHECK(vsim_json_pos_find("[[[[", 4, &p, &loc) <= VSIM_JSON_PATH_MAX);
  for (int i = 0; i < VSIM_JSON_PATH_MAX + 10; i++) vsim_json_pos_pop(&p);
  CHECK_EQ(p.depth, 0);
  /* A key longer than the print limit is cut. */
  vsim_json_pos_push_key(&p, "0123456789012345678901234567890123456789012345678901234567890123456789");
  vsim_json_pos_format(&p, buf, sizeof(buf));
  CHECK(strcmp(buf, "012345678901234567890123456789012345678901234567...") == 0);
}

/* ---- robustness: never crash, always a well-formed message ------------------------ */

static uint64_t lcg(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}

/* Either a scenario or "t.json:L:C: field '...': ..." with L, C >= 1. */
static bool well_formed(const vsim_scenario *sc, const char *err) {
  if (sc) {
    for (size_t i = 0; i < sc->nsteps; i++)
      if (sc->steps[i].line < 1 || sc->steps[i].col < 1 || sc->steps[i].op < VSIM_OP_INIT ||
          sc->steps[i].op > VSIM_OP_EXPECT || sc->steps[i].queue >= sc->num_queues)
        return false;
    return true;
  }
  unsigned long line = 0, col = 0;
  int used = 0;
  if (sscanf(err, "t.json:%lu:%lu: field '%n", &line, &col, &used) != 2 || used == 0) return false;
  return line >= 1 && col >= 1 && strstr(err + used, "': ") != NULL;
}

static void load_exact(const char *text, size_t len, int *bad) {
  /* An exact-size heap copy: any read past `len` is an ASan report. */
  char *copy = malloc(len ? len : 1);
  if (len) memcpy(copy, text, len);
  char err[VSIM_ERR_MAX] = "";
  vsim_scenario *sc = vsim_scenario_load_buffer(copy, len, "t.json", err, sizeof(err));
  if (!well_formed(sc, err)) {
    if (*bad < 3) fprintf(stderr, "  malformed result for %zu bytes: %s\n", len, err);
    (*bad)++;
  }
  vsim_scenario_free(sc);
  free(copy);
}

static void test_fuzz_truncate_and_flip(void) {
  char path[512];
  size_t len = 0;
  repo_path(path, sizeof(path), "tests/data/scenarios/good/all_ops.json");
  char *text = slurp(path, &len);
  CHECK(text != NULL);
  if (!text) return;
  int bad = 0;
  for (size_t cut = 0; cut <= len; cut++) load_exact(text, cut, &bad);
  static const char flips[] = {'{', '}', '[', ']', '"', ',', ':', '\\', '0', '9', '-', 'x', ' ', '\0', '\n', (char)0xff};
  char *m = malloc(len);
  for (size_t i = 0; i < len; i++) {
    for (size_t f = 0; f < sizeof(flips); f++) {
      if (text[i] == flips[f]) continue;
      memcpy(m, text, len);
      m[i] = flips[f];
      load_exact(m, len, &bad);
    }
  }
  /* Several random edits at once, from a fixed seed. */
  uint64_t seed = 12345;
  for (int round = 0; round < 3000; round++) {
    memcpy(m, text, len);
    int edits = 1 + (int)(lcg(&seed) % 6);
    for (int k = 0; k < edits; k++) m[lcg(&seed) % len] = (char)(lcg(&seed) & 0xff);
    load_exact(m, len, &bad);
  }
  free(m);
  free(text);
  CHECK_EQ(bad, 0);
}

/* json_pos must survive bytes jansson would never accept. */
static void test_fuzz_json_pos_garbage(void) {
  static const char alphabet[] = "{}[]\",:\\u0aZ \n\t\xc3\xa9";
  const char *keys[] = {"a", "", "u", "\xc3\xa9", "Z"};
  uint64_t seed = 99;
  for (int round = 0; round < 20000; round++) {
    size_t len = lcg(&seed) % 40;
    char *buf = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) buf[i] = alphabet[lcg(&seed) % (sizeof(alphabet) - 1)];
    vsim_json_path p;
    vsim_json_pos_path_init(&p);
    unsigned depth = (unsigned)(lcg(&seed) % 5);
    for (unsigned d = 0; d < depth; d++) {
      if (lcg(&seed) & 1) vsim_json_pos_push_key(&p, keys[lcg(&seed) % 5]);
      else vsim_json_pos_push_index(&p, lcg(&seed) % 3);
    }
    vsim_json_loc loc, locs[4];
    unsigned matched = vsim_json_pos_find(buf, len, &p, &loc);
    CHECK(matched <= depth && loc.line >= 1 && loc.col >= 1);
    CHECK(vsim_json_pos_elements(buf, len, &p, locs, 4) <= 4);
    free(buf);
  }
  vsim_json_loc loc;
  vsim_json_path p;
  vsim_json_pos_path_init(&p);
  vsim_json_pos_push_key(&p, "a");
  CHECK_EQ(vsim_json_pos_find(NULL, 10, &p, &loc), 0);
  CHECK(loc.line == 1 && loc.col == 1);
}

int main(void) {
  RUN(test_full_scenario_top_level);
  RUN(test_full_scenario_steps);
  RUN(test_defaults);
  RUN(test_step_defaults_and_variants);
  RUN(test_error_syntax);
  RUN(test_error_unknown_top_field);
  RUN(test_error_unknown_step_field);
  RUN(test_error_wrong_type);
  RUN(test_error_out_of_range);
  RUN(test_error_heads_limit);
  RUN(test_error_unknown_names);
  RUN(test_error_duplicates_and_conflicts);
  RUN(test_error_split_queue_size);
  RUN(test_error_queue_out_of_range);
  RUN(test_error_bad_hex);
  RUN(test_error_missing_required);
  RUN(test_error_positions_with_escapes);
  RUN(test_error_file);
  RUN(test_backend_field);
  RUN(test_scripted_device);
  RUN(test_mmio_ops);
  RUN(test_req_raw);
  RUN(test_bad_fixtures);
  RUN(test_readme_examples);
  RUN(test_names);
  RUN(test_json_pos);
  RUN(test_fuzz_truncate_and_flip);
  RUN(test_fuzz_json_pos_garbage);
  TEST_MAIN_END();
}
