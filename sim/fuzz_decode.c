/* sim/fuzz_decode.c — fuzz inputs as scenarios, and the fuzzers' oracles
 * (see fuzz_decode.h; the byte format is documented in fuzz/README.md).
 *
 * Owns: the target table, the ring targets' header and op decoders (a
 * malicious driver's ops against the device models, a malicious device's ops
 * against the driver model; split and packed: the ops they share and each
 * ring's own), the decoding loop and the scenario text the ring and device
 * request targets share (decode_ring: sim/fuzz_dev.c supplies the device
 * targets' headers and op tables, sim/fuzz_dec.h the decoder state and step
 * writer), the blk-chain decoder, and the oracles run on a decoded input.
 * Must never: emit a scenario the loader refuses (the decoders clamp every
 * value into the field's range, so an input can never be "invalid"), keep
 * state between calls, or abort: findings are returned as messages.
 *
 * Why scenario text rather than a vsim_scenario built in memory: the text is
 * the reproducer. The fuzz target loads exactly the bytes that
 * `virtio-sim fuzz-repro` prints, so a finding replays with `virtio-sim run`
 * by construction, and the loader is exercised on every input for free.
 */
#include "fuzz_decode.h"
#include "fuzz_dec.h"
#include "fuzz_text.h"
#include "fuzz_vu.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "blk.h"
#include "driver.h"
#include "replay.h" /* vsim_sim_view_driver */
#include "virtiosim/mutants.h"
#include "virtiosim/virtiosim.h"

/* ---- ring targets: the driver-op format ---------------------------------- */

/* The layout the driver model uses (scenarios/README.md, "Guest memory
 * layout"): queue 0's rings from 0x1000, the scratch area in the last 64 KiB
 * of the arena. Addresses are only biased toward these places; any other
 * address can still be written (selector 6). The arena (256 KiB) and the disk
 * (DISK_SECTORS) are smaller than the defaults because every execution
 * allocates, zeroes and frees them: with ASan that is most of an
 * execution's cost. 256 KiB still holds the largest layout (256 entries with
 * indirect tables: about 150 KiB) plus the scratch area and a data pool. */
#define ARENA_SIZE UINT64_C(0x40000)
#define DISK_SECTORS 256u
#define RING_BASE UINT64_C(0x1000)
#define MAX_OPS 256u
#define MAX_HEADS 8u

/* Address selector: one byte, low 3 bits the kind, high 5 bits a small value. */
uint64_t vsim_fz_addr(dec *d) {
  uint8_t a = rd8(&d->r);
  uint64_t s = a >> 3;
  switch (a & 7) {
    case 0: return d->scratch + rd16(&d->r);
    case 1: return d->scratch + s * 0x800;
    case 2: return d->desc + 16u * rd8(&d->r);
    case 3: return d->avail + 2u * rd8(&d->r);
    case 4: return d->used + 4u * rd8(&d->r);
    case 5: return d->arena - s;
    case 6: return rd64(&d->r);
    default: return s * 0x1000;
  }
}

static const uint32_t len_table[16] = {0,    1,    2,    15,   16,    17,     20,     32,
                                       48,   64,   512,  513,  1024,  4096,   65536,  UINT32_MAX};

/* Length selector: low 2 bits the kind, high 6 bits a small value. */
static uint32_t dec_len(dec *d) {
  uint8_t l = rd8(&d->r);
  uint32_t v = l >> 2;
  switch (l & 3) {
    case 0: return len_table[v % 16];
    case 1: return v;
    case 2: return 16u * (v + 1);
    default: return rd32(&d->r);
  }
}

/* A descriptor index or head: 0xff escapes to any u16, else modulo the size. */
static uint16_t dec_index(dec *d) {
  uint8_t b = rd8(&d->r);
  return b == 0xff ? rd16(&d->r) : (uint16_t)(b % d->qsize);
}

/* A ring index (avail.idx, used_event): near the guessed avail.idx, or any. */
static uint16_t dec_ring_idx(dec *d) {
  uint8_t m = rd8(&d->r);
  if (m == 0x80) return rd16(&d->r);
  return (uint16_t)(d->avail_est + (int8_t)m);
}

/* Sector selector, against the DISK_SECTORS-sector disk. */
static uint64_t dec_sector(dec *d) {
  uint8_t s = rd8(&d->r);
  if (s < 0xf0) return s;
  if (s == 0xff) return rd64(&d->r);
  return DISK_SECTORS - 8u + (s - 0xf0u); /* straddles the end of the disk */
}

/* Data length of blk.read / blk.write: whole sectors, or any small count. */
static uint32_t dec_blk_len(dec *d) {
  uint8_t n = rd8(&d->r);
  return (n & 0x80) ? (uint32_t)(n & 0x7f) : 512u * (1u + n % 8u);
}

static void op_raw_desc(dec *d) {
  uint16_t idx = (uint16_t)(rd8(&d->r) % d->qsize);
  uint64_t addr = vsim_fz_addr(d);
  uint32_t len = dec_len(d);
  uint8_t f = rd8(&d->r);
  uint16_t flags = f < 0x80 ? (uint16_t)(f & 7) : rd16(&d->r);
  uint16_t next = dec_index(d);
  step_open(d, "raw.desc");
  field_int(d, "index", idx);
  field_u64(d, "addr", addr);
  field_int(d, "len", len);
  field_int(d, "flags", flags);
  field_int(d, "next", next);
  step_close(d);
}

static void op_raw_avail(dec *d) {
  unsigned n = 1u + rd8(&d->r) % MAX_HEADS;
  step_open(d, "raw.avail");
  sb_printf(&d->steps, ", \"heads\": [");
  for (unsigned i = 0; i < n; i++) sb_printf(&d->steps, "%s%u", i ? ", " : "", dec_index(d));
  sb_printf(&d->steps, "]");
  step_close(d);
  d->avail_est = (uint16_t)(d->avail_est + n);
}

static void op_raw_avail_idx(dec *d) {
  uint16_t v = dec_ring_idx(d);
  step_open(d, "raw.avail_idx");
  field_int(d, "value", v);
  step_close(d);
  d->avail_est = v;
}

static void op_raw_avail_flags(dec *d) {
  uint8_t f = rd8(&d->r);
  uint16_t v = f == 0xff ? rd16(&d->r) : (uint16_t)(f & 1);
  step_open(d, "raw.avail_flags");
  field_int(d, "value", v);
  step_close(d);
}

static void op_raw_used_event(dec *d) {
  uint16_t v = dec_ring_idx(d);
  step_open(d, "raw.used_event");
  field_int(d, "value", v);
  step_close(d);
}

/* raw.write and dev.write: the same operands, one side or the other. */
static void write_op(dec *d, const char *name) {
  uint64_t addr = vsim_fz_addr(d);
  uint8_t n = (uint8_t)(rd8(&d->r) % 65u);
  uint8_t buf[64];
  size_t got = 0;
  while (got < n && rd_more(&d->r)) buf[got++] = rd8(&d->r);
  /* the loader refuses a write past the arena: fold the address into range */
  if (addr > d->arena - got) addr %= d->arena - got + 1;
  step_open(d, name);
  field_u64(d, "addr", addr);
  sb_printf(&d->steps, ", \"data\": ");
  sb_hex(&d->steps, buf, got);
  step_close(d);
}

static void op_raw_write(dec *d) { write_op(d, "raw.write"); }

void vsim_fz_op_kick(dec *d) {
  uint8_t k = rd8(&d->r);
  step_open(d, "kick");
  if (k == 0xff)
    field_int(d, "value", rd32(&d->r));
  else if (k >= 0xc0)
    field_int(d, "value", k - 0xc0u);
  step_close(d);
}

void vsim_fz_op_wait(dec *d) { step_simple(d, "wait"); }

static void op_blk_read(dec *d) {
  uint64_t sector = dec_sector(d);
  uint32_t len = dec_blk_len(d);
  step_open(d, "blk.read");
  field_queue(d);
  field_u64(d, "sector", sector);
  field_int(d, "len", len);
  step_close(d);
  d->avail_est++;
}

static void op_blk_write(dec *d) {
  uint64_t sector = dec_sector(d);
  uint32_t len = dec_blk_len(d);
  uint8_t seed = rd8(&d->r);
  step_open(d, "blk.write");
  field_queue(d);
  field_u64(d, "sector", sector);
  sb_printf(&d->steps, ", \"data\": {\"pattern\": %u, \"len\": %u}", seed, len);
  step_close(d);
  d->avail_est++;
}

static const uint32_t blk_types[8] = {VIRTIO_BLK_T_IN,      VIRTIO_BLK_T_OUT,
                                      VIRTIO_BLK_T_FLUSH,   VIRTIO_BLK_T_GET_ID,
                                      VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
                                      10 /* GET_LIFETIME */, 14 /* SECURE_ERASE */};

static void op_blk_other(dec *d) {
  uint8_t t = rd8(&d->r);
  switch (t % 5) {
    case 0:
      step_open(d, "blk.flush");
      field_queue(d);
      step_close(d);
      break;
    case 1:
      step_open(d, "blk.get_id");
      field_queue(d);
      step_close(d);
      break;
    case 2:
    case 3: {
      uint64_t sector = dec_sector(d);
      uint32_t nsect = 1u + rd8(&d->r);
      uint32_t flags = rd8(&d->r) % 4u;
      step_open(d, t % 5 == 2 ? "blk.discard" : "blk.write_zeroes");
      field_queue(d);
      field_u64(d, "sector", sector);
      field_int(d, "nsectors", nsect);
      field_int(d, "flags", flags);
      step_close(d);
      break;
    }
    default: {
      uint8_t ty = rd8(&d->r);
      uint32_t type = ty == 0xff ? rd32(&d->r) : blk_types[ty % 8];
      uint64_t sector = dec_sector(d);
      uint8_t dlen = rd8(&d->r);
      uint8_t wlen = rd8(&d->r);
      step_open(d, "blk.raw");
      field_queue(d);
      field_int(d, "type", type);
      field_u64(d, "sector", sector);
      sb_printf(&d->steps, ", \"data\": {\"pattern\": %u, \"len\": %u}", dlen, dlen);
      field_int(d, "len", wlen);
      step_close(d);
      break;
    }
  }
  d->avail_est++;
}

void vsim_fz_op_lifecycle(dec *d) {
  uint8_t r = rd8(&d->r);
  switch (r % 8) {
    case 0:
      step_simple(d, "fault.device_reset");
      step_simple(d, "init");
      break;
    case 1: step_simple(d, "fault.device_reset"); break;
    case 2: step_simple(d, "reset"); break;
    case 3: step_simple(d, "init"); break;
    case 4:
      step_open(d, "init");
      sb_printf(&d->steps, ", \"driver_ok\": false");
      step_close(d);
      break;
    case 5: step_simple(d, "driver_ok"); break;
    case 6: step_simple(d, "fault.needs_reset"); break;
    default:
      step_simple(d, "reset");
      step_simple(d, "init");
      break;
  }
  if (r % 8 != 5 && r % 8 != 6) d->avail_est = d->used_est = 0;
}

static void op_delay_irq(dec *d) {
  step_open(d, "fault.delay_irq");
  field_int(d, "value", 1u + rd8(&d->r));
  step_close(d);
}

void vsim_fz_op_poll(dec *d) {
  step_open(d, "poll");
  field_queue(d);
  step_close(d);
}

/* ---- packed ring: its raw ops ---- */

/* The loader takes a raw.pdesc len up to VSIM_SCENARIO_MAX_DATA only (not
 * any u32, as for raw.desc): larger lengths are cut to that. A descriptor
 * with any u32 length can still be written with raw.write into the ring. */
#define PDESC_MAX_LEN (16u << 20)
#define PF_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define PF_USED (1u << VRING_PACKED_DESC_F_USED)

/* A buffer id: a valid one (modulo the size), the size, the size + 1, or any u16. */
static uint16_t dec_id(dec *d) {
  uint8_t b = rd8(&d->r);
  switch (b) {
    case 0xff: return rd16(&d->r);
    case 0xfe: return (uint16_t)(d->qsize + 1u);
    case 0xfd: return d->qsize;
    default: return (uint16_t)(b % d->qsize);
  }
}

static void op_raw_pdesc(dec *d) {
  uint16_t idx = (uint16_t)(rd8(&d->r) % d->qsize);
  uint64_t addr = vsim_fz_addr(d);
  uint32_t len = dec_len(d);
  if (len > PDESC_MAX_LEN) len = PDESC_MAX_LEN;
  uint16_t id = dec_id(d);
  uint8_t f = rd8(&d->r);
  bool exact = f >= 0x80 && f != 0xfe;
  uint16_t flags;
  if (f >= 0xfe)
    flags = rd16(&d->r);
  else if (f < 0x80)
    flags = (uint16_t)(f & 7u);
  else
    flags = (uint16_t)((f & 7u) | ((f & 8u) ? PF_AVAIL : 0u) | ((f & 0x10u) ? PF_USED : 0u));
  step_open(d, "raw.pdesc");
  field_int(d, "index", idx);
  field_u64(d, "addr", addr);
  field_int(d, "len", len);
  field_int(d, "id", id);
  field_int(d, "flags", flags);
  if (exact) sb_printf(&d->steps, ", \"exact\": true");
  step_close(d);
}

static void op_raw_ppublish(dec *d) {
  uint8_t c = rd8(&d->r);
  uint16_t count = c == 0xff ? rd16(&d->r) : (uint16_t)(c % (d->qsize + 1u));
  uint16_t id = dec_id(d);
  step_open(d, "raw.ppublish");
  field_int(d, "value", count);
  field_int(d, "id", id);
  step_close(d);
}

void vsim_fz_op_queue(dec *d) {
  uint8_t q = rd8(&d->r) % 3u;
  if (q != 2) {
    step_open(d, "queue.reset");
    field_queue(d);
    step_close(d);
  }
  if (q != 1) {
    step_open(d, "queue.enable");
    field_queue(d);
    step_close(d);
  }
}

/* ---- driver targets: the scripted device's ops ---- */

/* Which buffer dev.used / dev.pused completes: one byte `b`. < 0x80 the next
 * chain the device takes from the available ring (no "id": the default);
 * < 0xc0 "last", the previous completion's id again; 0xff a u32 (split) or
 * u16 (packed) follows; 0xfe just past the ring (size + a byte); else a byte
 * modulo the size. */
static void dev_id(dec *d) {
  uint8_t b = rd8(&d->r);
  if (b < 0x80) return;
  if (b < 0xc0) {
    sb_printf(&d->steps, ", \"id\": \"last\"");
    return;
  }
  uint32_t id;
  if (b == 0xff)
    id = d->packed ? rd16(&d->r) : rd32(&d->r);
  else if (b == 0xfe)
    id = d->qsize + (uint32_t)rd8(&d->r);
  else
    id = rd8(&d->r) % d->qsize;
  field_int(d, "id", id);
}

/* The mode byte of the device's ring ops: bits 0-1 irq (0, 3 as a conforming
 * device would: no field; 1 true; 2 false). */
static void dev_irq(dec *d, uint8_t m) {
  if ((m & 3u) == 1u) sb_printf(&d->steps, ", \"irq\": true");
  if ((m & 3u) == 2u) sb_printf(&d->steps, ", \"irq\": false");
}

/* The rest of dev.used / dev.pused's mode byte: bit 2 a status byte follows;
 * bit 3 split: "publish": false, packed: a skip byte follows (% (size + 1)). */
static void dev_used_mode(dec *d, uint8_t m) {
  dev_irq(d, m);
  if (m & 4u) field_int(d, "status", rd8(&d->r));
  if (m & 8u) {
    if (d->packed)
      field_int(d, "skip", rd8(&d->r) % (d->qsize + 1u));
    else
      sb_printf(&d->steps, ", \"publish\": false");
  }
}

static void op_dev_used(dec *d) {
  step_open(d, "dev.used");
  field_queue(d);
  dev_id(d);
  field_int(d, "len", dec_len(d));
  uint8_t m = rd8(&d->r);
  dev_used_mode(d, m);
  step_close(d);
  if (!d->packed && !(m & 8u)) d->used_est++;
}

static void op_dev_pused(dec *d) {
  step_open(d, "dev.pused");
  field_queue(d);
  dev_id(d);
  field_int(d, "len", dec_len(d));
  /* flags as the packed device target's PFLAGS */
  uint8_t f = rd8(&d->r);
  bool exact = f >= 0x80 && f != 0xfe;
  uint16_t flags;
  if (f >= 0xfe)
    flags = rd16(&d->r);
  else if (f < 0x80)
    flags = (uint16_t)(f & 7u);
  else
    flags = (uint16_t)((f & 7u) | ((f & 8u) ? PF_AVAIL : 0u) | ((f & 0x10u) ? PF_USED : 0u));
  field_int(d, "flags", flags);
  if (exact) sb_printf(&d->steps, ", \"exact\": true");
  dev_used_mode(d, rd8(&d->r));
  step_close(d);
}

/* A used index near the guessed used.idx, or any. */
static uint16_t dec_used_idx(dec *d) {
  uint8_t m = rd8(&d->r);
  if (m == 0x80) return rd16(&d->r);
  return (uint16_t)(d->used_est + (int8_t)m);
}

static void op_dev_used_idx(dec *d) {
  uint16_t v = dec_used_idx(d);
  step_open(d, "dev.used_idx");
  field_queue(d);
  field_int(d, "value", v);
  dev_irq(d, rd8(&d->r));
  step_close(d);
  d->used_est = v;
}

static void op_dev_avail_event(dec *d) {
  uint16_t v = dec_ring_idx(d);
  step_open(d, "dev.avail_event");
  field_queue(d);
  field_int(d, "value", v);
  step_close(d);
}

static void op_dev_used_flags(dec *d) {
  uint8_t f = rd8(&d->r);
  uint16_t v = f == 0xff ? rd16(&d->r) : (uint16_t)(f & 1u);
  step_open(d, "dev.used_flags");
  field_queue(d);
  field_int(d, "value", v);
  step_close(d);
}

/* flags: 0xff a u16 follows, else % 4 (ENABLE, DISABLE, DESC, reserved);
 * off_wrap: 0xff a u16 follows, else an offset in the ring (low 7 bits) and
 * the wrap bit (bit 7). */
static void op_dev_pevent(dec *d) {
  uint8_t f = rd8(&d->r);
  uint16_t flags = f == 0xff ? rd16(&d->r) : (uint16_t)(f % 4u);
  uint8_t o = rd8(&d->r);
  uint16_t off_wrap = o == 0xff ? rd16(&d->r)
                                : (uint16_t)(((o & 0x7fu) % d->qsize) | ((o & 0x80u) ? 0x8000u : 0u));
  step_open(d, "dev.pevent");
  field_queue(d);
  field_int(d, "flags", flags);
  field_int(d, "value", off_wrap);
  step_close(d);
}

static void op_dev_irq(dec *d) {
  step_open(d, "dev.irq");
  field_queue(d);
  step_close(d);
}

static void op_dev_write(dec *d) { write_op(d, "dev.write"); }

/* offset byte (% 64: the blk config space and a little past it), count byte
 * c: (c & 0x7f) % 17 data bytes, bit 7 "irq": false. */
static void op_dev_config(dec *d) {
  uint32_t off = rd8(&d->r) % 64u;
  uint8_t c = rd8(&d->r);
  uint8_t buf[16];
  size_t n = (c & 0x7fu) % 17u, got = 0;
  while (got < n && rd_more(&d->r)) buf[got++] = rd8(&d->r);
  step_open(d, "dev.config");
  field_int(d, "offset", off);
  sb_printf(&d->steps, ", \"data\": ");
  sb_hex(&d->steps, buf, got);
  if (c & 0x80u) sb_printf(&d->steps, ", \"irq\": false");
  step_close(d);
}

static void op_dev_needs_reset(dec *d) {
  uint8_t b = rd8(&d->r);
  step_open(d, "dev.needs_reset");
  if (b & 1u) sb_printf(&d->steps, ", \"irq\": false");
  step_close(d);
}

/* The queue the next ops act on: emits nothing. */
static void op_select_queue(dec *d) { d->curq = (uint16_t)(rd8(&d->r) % (d->nq ? d->nq : 1u)); }

/* The opcode is the op byte modulo the table size: every byte is an op. The
 * order is part of the format (fuzz/README.md, fuzz/make_corpus.py). */
static const vsim_fuzz_op_def split_ops[] = {
    {"raw.desc", op_raw_desc},           {"raw.avail", op_raw_avail},
    {"raw.avail_idx", op_raw_avail_idx}, {"raw.avail_flags", op_raw_avail_flags},
    {"raw.used_event", op_raw_used_event}, {"raw.write", op_raw_write},
    {"kick", vsim_fz_op_kick},                   {"wait", vsim_fz_op_wait},
    {"blk.read", op_blk_read},           {"blk.write", op_blk_write},
    {"blk.other", op_blk_other},         {"lifecycle", vsim_fz_op_lifecycle},
    {"fault.delay_irq", op_delay_irq},   {"poll", vsim_fz_op_poll},
};

static const vsim_fuzz_op_def packed_ops[] = {
    {"raw.pdesc", op_raw_pdesc},       {"raw.ppublish", op_raw_ppublish},
    {"raw.write", op_raw_write},       {"kick", vsim_fz_op_kick},
    {"wait", vsim_fz_op_wait},                 {"blk.read", op_blk_read},
    {"blk.write", op_blk_write},       {"blk.other", op_blk_other},
    {"lifecycle", vsim_fz_op_lifecycle},       {"queue", vsim_fz_op_queue},
    {"fault.delay_irq", op_delay_irq}, {"poll", vsim_fz_op_poll},
};

static const vsim_fuzz_op_def split_driver_ops[] = {
    {"dev.used", op_dev_used},           {"dev.used_idx", op_dev_used_idx},
    {"dev.avail_event", op_dev_avail_event}, {"dev.used_flags", op_dev_used_flags},
    {"dev.irq", op_dev_irq},             {"dev.write", op_dev_write},
    {"dev.config", op_dev_config},       {"dev.needs_reset", op_dev_needs_reset},
    {"blk.read", op_blk_read},           {"blk.write", op_blk_write},
    {"blk.other", op_blk_other},         {"lifecycle", vsim_fz_op_lifecycle},
    {"poll", vsim_fz_op_poll},                   {"fault.delay_irq", op_delay_irq},
    {"select_queue", op_select_queue},   {"queue", vsim_fz_op_queue},
};

static const vsim_fuzz_op_def packed_driver_ops[] = {
    {"dev.used", op_dev_used},           {"dev.pused", op_dev_pused},
    {"dev.pevent", op_dev_pevent},       {"dev.irq", op_dev_irq},
    {"dev.write", op_dev_write},         {"dev.config", op_dev_config},
    {"dev.needs_reset", op_dev_needs_reset}, {"blk.read", op_blk_read},
    {"blk.write", op_blk_write},         {"blk.other", op_blk_other},
    {"lifecycle", vsim_fz_op_lifecycle},         {"poll", vsim_fz_op_poll},
    {"fault.delay_irq", op_delay_irq},   {"select_queue", op_select_queue},
    {"queue", vsim_fz_op_queue},
};

/* descriptor table, available ring right after it, used ring at the next
 * 64-byte boundary (frontend-model/driver.c) */
static void split_layout(uint16_t q, uint64_t part[3]) {
  part[0] = RING_BASE;
  part[1] = part[0] + 16u * q;
  part[2] = (part[1] + 6u + 2u * q + 63u) & ~UINT64_C(63);
}

/* descriptor ring, then the driver and the device event suppression areas
 * (4 bytes each) right after it (frontend-model/driver.c) */
static void packed_layout(uint16_t q, uint64_t part[3]) {
  part[0] = RING_BASE;
  part[1] = part[0] + 16u * q;
  part[2] = part[1] + 4u;
}

const uint64_t vsim_fz_latency_table[8] = {0, 0, 0, 0, 1, 2, 7, 64};
static const unsigned batch_table[4] = {1, 1, 2, 16};
const char *const vsim_fz_policy_names[4] = {"scripted", "round-robin", "random", "scripted"};

static void setup_feature(vsim_fuzz_setup *o, bool on, const char *name) {
  if (on && o->nfeatures < SETUP_MAX_FEATURES) o->features[o->nfeatures++] = name;
}

/* Bytes 1-4 mean the same on both rings (fuzz/README.md); byte 2 bits 6-7
 * are the packed header's. */
static void common_header(const uint8_t *h, vsim_fuzz_setup *o) {
  o->policy = vsim_fz_policy_names[(h[1] >> 3) & 3];
  o->batch = batch_table[h[1] >> 6];
  o->latency = vsim_fz_latency_table[h[2] % 8];
  o->poll = (h[1] & 4) != 0;
  o->regions = (h[2] >> 3) & 7u;
  o->seed = (uint16_t)(h[3] | (h[4] << 8));
  setup_feature(o, h[1] & 1, "INDIRECT_DESC");
  setup_feature(o, h[1] & 2, "EVENT_IDX");
}

static void blk_extras(const uint8_t *h, vsim_fuzz_setup *o) {
  setup_feature(o, h[1] & 0x20, "FLUSH");
  setup_feature(o, h[1] & 0x20, "DISCARD");
  setup_feature(o, h[1] & 0x20, "WRITE_ZEROES");
}

static void split_header(const uint8_t *h, vsim_fuzz_setup *o) {
  o->queue_size = (uint16_t)(1u << (h[0] % 9u)); /* 1..256, powers of two */
  common_header(h, o);
  blk_extras(h, o);
}

/* The driver targets' header, after the queue size byte: the driver's
 * features and run settings (the device's knobs mean nothing when it is
 * scripted). Two queues only up to 64 entries each, so that the layout fits
 * the arena with indirect tables. */
static void driver_header(const uint8_t *h, vsim_fuzz_setup *o) {
  o->policy = vsim_fz_policy_names[(h[1] >> 3) & 3];
  o->batch = 1;
  o->poll = (h[1] & 4) != 0;
  o->seed = (uint16_t)(h[3] | (h[4] << 8));
  setup_feature(o, h[1] & 1, "INDIRECT_DESC");
  setup_feature(o, h[1] & 2, "EVENT_IDX");
  setup_feature(o, h[1] & 0x40, "IN_ORDER");
  setup_feature(o, h[1] & 0x80, "NOTIFICATION_DATA");
  setup_feature(o, h[2] & 2, "RING_RESET");
  blk_extras(h, o);
  o->num_queues = (h[2] & 1) && o->queue_size <= 64 ? 2 : 1;
  setup_feature(o, o->num_queues > 1, "MQ");
}

static void split_driver_header(const uint8_t *h, vsim_fuzz_setup *o) {
  o->queue_size = (uint16_t)(1u << (h[0] % 9u));
  driver_header(h, o);
}

static void packed_driver_header(const uint8_t *h, vsim_fuzz_setup *o) {
  o->queue_size = (uint16_t)(1u + h[0]);
  driver_header(h, o);
}

static void packed_header(const uint8_t *h, vsim_fuzz_setup *o) {
  o->queue_size = (uint16_t)(1u + h[0]); /* 1..256, any */
  common_header(h, o);
  setup_feature(o, h[2] & 0x40, "IN_ORDER");
  setup_feature(o, h[2] & 0x80, "NOTIFICATION_DATA");
  setup_feature(o, h[5] & 1, "RING_RESET");
  blk_extras(h, o);
  o->in_order_batch = (h[5] & 2) != 0;
}

/* The work bound: every scenario step may make the device pop at most a
 * queue's worth of chains (split: avail.idx can run at most queue size ahead;
 * packed: a descriptor the driver wrote is available for one lap of the
 * device's wrap counter, and one step writes a list of at most queue size
 * descriptors), and
 * every pop costs a bounded number of scheduler steps (pop, complete, the
 * interrupt the driver handles); plus the engine's spin detector (4096 idle
 * steps) and initialisation. */
static uint64_t work_bound(uint32_t nsteps, uint16_t qsize) {
  return 8192u + UINT64_C(16) * (nsteps + 2u) * (qsize + 2u);
}

static char *decode_ring(const vsim_fuzz_target *t, const uint8_t *data, size_t size, vsim_mutset mutants,
                         size_t *len, vsim_fuzz_info *info) {
  dec d;
  memset(&d, 0, sizeof d);
  d.r = (rd){data, size, 0};
  uint8_t h[VSIM_FUZZ_MAX_HEADER] = {0};
  for (unsigned i = 0; i < t->header_len && i < VSIM_FUZZ_MAX_HEADER; i++) h[i] = rd8(&d.r);
  vsim_fuzz_setup su;
  memset(&su, 0, sizeof su);
  t->header(h, &su);
  const bool scripted = t->kind == VSIM_FUZZ_RING_DRIVER;
  /* the device request targets' header chooses the ring, the device and
   * its guest memory; the ring targets' are fixed */
  const char *ring = su.ring ? su.ring : t->ring;
  d.su = &su;
  d.qsize = su.queue_size;
  d.packed = strcmp(ring, "packed") == 0;
  d.nq = su.num_queues ? su.num_queues : 1;
  d.arena = su.arena_size ? su.arena_size : ARENA_SIZE;
  d.scratch = d.arena - 0x10000u;
  /* the device configuration space in the register window the transport's
   * mmio.read / mmio.write steps address (scenarios/README.md) */
  d.cfg_base = su.transport && strcmp(su.transport, "pci") == 0 ? 0x200u : 0x100u;
  uint64_t part[3];
  if (t->layout)
    t->layout(d.qsize, part);
  else if (d.packed)
    packed_layout(d.qsize, part);
  else
    split_layout(d.qsize, part);
  d.desc = part[0];
  d.avail = part[1];
  d.used = part[2];
  while (rd_more(&d.r) && d.nops < MAX_OPS) {
    const vsim_fuzz_op_def *op = &t->ops[rd8(&d.r) % t->nops];
    op->emit(&d);
    d.nops++;
  }
  /* host input the driver model's own buffers take (the input driver's
   * eventq: one chain per event, whatever the steps) is work beyond them */
  uint64_t bound = work_bound(d.nsteps, d.qsize) + 64u * d.work;
  uint64_t hash = fnv1a(data, size);

  sb b = {0};
  sb_printf(&b, "{\n  \"name\": \"%s\",\n", t->name);
  sb_printf(&b,
            "  \"description\": \"decoded from a %zu-byte %s input (fnv1a64 %016" PRIx64
            ", format v%d) by virtio-sim fuzz-repro; no expectations: a finding shows as a "
            "violation, a failure, a crash or max_steps being hit\",\n",
            size, t->name, hash, VSIM_FUZZ_FORMAT_VERSION);
  sb_printf(&b, "  \"device\": \"%s\",\n", su.device ? su.device : "blk");
  if (su.transport) sb_printf(&b, "  \"transport\": \"%s\",\n", su.transport);
  sb_printf(&b, "  \"ring\": \"%s\",\n  \"queue_size\": %u,\n", ring, d.qsize);
  if (d.nq > 1 || su.device) sb_printf(&b, "  \"num_queues\": %u,\n", d.nq);
  if (scripted) sb_printf(&b, "  \"device_scripted\": true,\n");
  if (vsim_mut_any(&mutants)) {
    /* planted bugs (VSIM_FUZZ_MUTANTS, fuzz-repro --mutants): the text must
     * select them too, or it would not replay what the fuzzer ran */
    sb_printf(&b, "  \"mutants\": [");
    bool first = true;
    for (int m = 0; m < VSIM_MUT__COUNT; m++)
      if (vsim_mut_has(&mutants, m)) {
        sb_printf(&b, "%s\"%s\"", first ? "" : ", ", vsim_mutant_name(m));
        first = false;
      }
    sb_printf(&b, "],\n");
  }
  sb_printf(&b, "  \"arena_size\": %" PRIu64 ",\n", d.arena);
  if (!su.device)
    sb_printf(&b, "  \"device_config\": {\"capacity\": %u},\n", DISK_SECTORS);
  else if (su.config[0])
    sb_printf(&b, "  \"device_config\": {%s},\n", su.config);
  sb_printf(&b, "  \"seed\": %u,\n  \"policy\": \"%s\",\n  \"max_steps\": %" PRIu64 ",\n", su.seed,
            su.policy, bound);
  if (!scripted)
    sb_printf(&b, "  \"device_batch\": %u,\n  \"device_latency\": %" PRIu64 ",\n", su.batch,
              su.latency);
  if (su.in_order_batch) sb_printf(&b, "  \"device_in_order_batch\": true,\n");
  if (su.poll) sb_printf(&b, "  \"driver_poll\": true,\n");
  sb_printf(&b, "  \"accept_features\": [\"VERSION_1\"");
  for (unsigned i = 0; i < su.nfeatures; i++) sb_printf(&b, ", \"%s\"", su.features[i]);
  sb_printf(&b, "],\n");
  if (su.regions) {
    static const char *const acc[3] = {"none", "device-ro", "driver-only"};
    sb_printf(&b, "  \"memory\": [");
    bool first = true;
    for (unsigned i = 0; i < 3; i++)
      if (su.regions & (1u << i)) {
        sb_printf(&b, "%s{\"base\": \"0x%" PRIx64 "\", \"len\": 4096, \"access\": \"%s\"}",
                  first ? "" : ", ", d.scratch + 0xc000u + 0x1000u * i, acc[i]);
        first = false;
      }
    sb_printf(&b, "],\n");
  }
  sb_printf(&b, "  \"steps\": [%.*s%s]\n}\n", (int)d.steps.n, d.steps.p ? d.steps.p : "",
            d.nsteps ? "\n  " : "");
  bool oom = d.steps.oom;
  free(d.steps.p);
  if (oom) b.oom = true;
  if (info) {
    info->queue_size = d.qsize;
    info->num_queues = d.nq;
    info->ops = d.nops;
    info->steps = d.nsteps;
    info->max_steps = bound;
    info->input_hash = hash;
  }
  return sb_take(&b, len);
}

/* ---- blk: one request chain ---------------------------------------------- */

/* The blk target's own guest memory: page 0, which the chain never covers
 * (a byte written there is a stray write), and 64 KiB for the chain's buffers
 * from BLK_SCR. Small on purpose: ASan serves blocks up to 128 KiB from its
 * fast size-class allocator, larger ones with mmap. The scenario equivalent
 * moves the buffers into the default layout's scratch area. */
#define BLK_SCR UINT64_C(0x1000)
#define BLK_SCR_LEN 0x10000u
#define BLK_ARENA (BLK_SCR + BLK_SCR_LEN)
#define BLK_SCENARIO_SCRATCH UINT64_C(0xf0000) /* the default 1 MiB arena's scratch area */
#define BLK_MAX_SEG 16u
#define BLK_SEG_MAX_LEN 4096u /* so that the readable bytes fit the 64 KiB window */
#define BLK_MAX_KV 12u        /* device_config entries (the header asks for at most 9) */

typedef struct blk_in {
  uint64_t features; /* driver features to negotiate (VERSION_1 and blk bits) */
  unsigned nkv;
  const char *keys[BLK_MAX_KV];
  char vals[BLK_MAX_KV][24];
  uint64_t capacity;
  bool ro;
  uint32_t nseg, nread;
  vsim_seg seg[BLK_MAX_SEG];
} blk_in;

static void blk_kv(blk_in *b, const char *k, const char *fmt, uint64_t v) {
  b->keys[b->nkv] = k;
  snprintf(b->vals[b->nkv], sizeof b->vals[0], fmt, v);
  b->nkv++;
}

static const uint32_t blk_len_table[16] = {0,   1,   15,  16,  17,   20,   21, 32,
                                           48,  511, 512, 513, 1024, 4096, 2,  8};

static const unsigned blk_fbits[5] = {VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_DISCARD,
                                      VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_F_SEG_MAX,
                                      VIRTIO_BLK_F_SIZE_MAX};
static const char *const blk_fnames[5] = {"FLUSH", "DISCARD", "WRITE_ZEROES", "SEG_MAX",
                                          "SIZE_MAX"};

static uint64_t blk_sector(rd *r, uint64_t capacity) {
  uint8_t s = rd8(r);
  if (s < 0x80) return s;
  if (s == 0xff) return rd64(r);
  return capacity - 8u + (s - 0x80u) % 16u; /* wraps below 0 on tiny disks: on purpose */
}

static void put_le(uint8_t *p, uint64_t v, unsigned n) {
  for (unsigned k = 0; k < n; k++) p[k] = (uint8_t)(v >> (8 * k));
}

/* Decode into `b` and the initial contents of the 64 KiB buffer window `mem`. */
static void blk_decode(const uint8_t *data, size_t size, blk_in *b, uint8_t *mem) {
  memset(b, 0, sizeof *b);
  memset(mem, 0, BLK_SCR_LEN);
  rd r = {data, size, 0};
  static const uint64_t caps[4] = {64, 16, 1, 0};
  uint8_t h0 = rd8(&r), h1 = rd8(&r);
  b->features = UINT64_C(1) << VIRTIO_F_VERSION_1;
  for (unsigned i = 0; i < 5; i++)
    if (h0 & (1u << i)) b->features |= UINT64_C(1) << blk_fbits[i];
  b->ro = (h0 >> 5) & 1;
  b->capacity = caps[h0 >> 6];
  blk_kv(b, "capacity", "%" PRIu64, b->capacity);
  if (b->ro) blk_kv(b, "ro", "true", 0);
  static const uint64_t size_max[4] = {0, 512, 4096, 1};
  static const uint64_t seg_max[4] = {0, 1, 2, 4};
  static const uint64_t dwz_seg[4] = {0, 1, 2, 64};
  if (h1 & 3) blk_kv(b, "size_max", "%" PRIu64, size_max[h1 & 3]);
  if ((h1 >> 2) & 3) blk_kv(b, "seg_max", "%" PRIu64, seg_max[(h1 >> 2) & 3]);
  if ((h1 >> 4) & 3) {
    blk_kv(b, "max_discard_seg", "%" PRIu64, dwz_seg[(h1 >> 4) & 3]);
    blk_kv(b, "max_write_zeroes_seg", "%" PRIu64, dwz_seg[(h1 >> 4) & 3]);
  }
  if (h1 & 0x40) blk_kv(b, "write_zeroes_may_unmap", "false", 0);
  if (h1 & 0x80) {
    blk_kv(b, "max_discard_sectors", "%" PRIu64, 8);
    blk_kv(b, "max_write_zeroes_sectors", "%" PRIu64, 8);
  }

  /* segments: the readable ones first (a pop guarantees that order), each
   * inside the window, placed after the previous one or aliasing it */
  b->nseg = 1u + rd8(&r) % BLK_MAX_SEG;
  b->nread = rd8(&r) % (b->nseg + 1u);
  uint64_t cursor = 0, prev = 0;
  for (uint32_t i = 0; i < b->nseg; i++) {
    uint8_t l = rd8(&r), p = rd8(&r);
    uint32_t v = l >> 2, len;
    switch (l & 3) {
      case 0: len = blk_len_table[v % 16]; break;
      case 1: len = v; break;
      case 2: len = 512u * (v % 8u + 1u); break;
      default: len = rd16(&r); break;
    }
    if (len > BLK_SEG_MAX_LEN) len = BLK_SEG_MAX_LEN;
    uint64_t off = ((p & 0x80) ? prev + (p & 0x7fu) : cursor + (p & 0x7fu)) % BLK_SCR_LEN;
    if (len > BLK_SCR_LEN - off) len = (uint32_t)(BLK_SCR_LEN - off);
    b->seg[i] = (vsim_seg){BLK_SCR + off, len, i >= b->nread};
    prev = off;
    cursor = off + len;
  }
  /* writable buffers start out as a recognisable pattern */
  for (uint32_t i = b->nread; i < b->nseg; i++)
    memset(mem + (b->seg[i].gpa - BLK_SCR), 0xa5, b->seg[i].len);

  /* the readable bytes, in chain order: the request header, the
   * DISCARD / WRITE_ZEROES segments, then the rest of the input, then zeros */
  uint8_t head[16 + 4 * 16];
  size_t hn = 0;
  uint8_t t = rd8(&r);
  uint32_t type = t == 0xff ? rd32(&r) : blk_types[t % 8];
  uint64_t sector = blk_sector(&r, b->capacity);
  put_le(head, type, 4);
  put_le(head + 4, 0, 4); /* ioprio */
  put_le(head + 8, sector, 8);
  hn = 16;
  if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES) {
    unsigned nd = rd8(&r) % 5u;
    for (unsigned j = 0; j < nd; j++) {
      uint64_t sec = blk_sector(&r, b->capacity);
      uint8_t nb = rd8(&r);
      uint32_t num = nb == 0xff ? rd32(&r) : nb;
      uint8_t fb = rd8(&r);
      uint32_t fl = fb == 0xff ? rd32(&r) : (uint32_t)(fb & 3);
      put_le(head + hn, sec, 8);
      put_le(head + hn + 8, num, 4);
      put_le(head + hn + 12, fl, 4);
      hn += 16;
    }
  }
  size_t pos = 0;
  for (uint32_t i = 0; i < b->nread; i++) {
    uint8_t *dst = mem + (b->seg[i].gpa - BLK_SCR);
    for (uint32_t k = 0; k < b->seg[i].len; k++, pos++) dst[k] = pos < hn ? head[pos] : rd8(&r);
  }
}

/* The split-ring scenario that hands the same chain to the device: its
 * buffers are written into the scratch area, its descriptors into the table,
 * head 0 is published, and the driver waits for the completion. */
static char *blk_scenario(const blk_in *b, const uint8_t *mem, size_t size, uint64_t hash,
                          size_t *len) {
  const uint64_t move = BLK_SCENARIO_SCRATCH - BLK_SCR;
  sb s = {0};
  sb_printf(&s, "{\n  \"name\": \"fuzz_blk_request\",\n");
  sb_printf(&s,
            "  \"description\": \"the chain of a %zu-byte fuzz_blk_request input (fnv1a64 %016" PRIx64
            ", format v%d), through a split ring; no expectations\",\n",
            size, hash, VSIM_FUZZ_FORMAT_VERSION);
  sb_printf(&s, "  \"device\": \"blk\",\n  \"queue_size\": %u,\n", BLK_MAX_SEG);
  sb_printf(&s, "  \"accept_features\": [\"VERSION_1\"");
  for (unsigned i = 0; i < 5; i++)
    if (b->features & (UINT64_C(1) << blk_fbits[i])) sb_printf(&s, ", \"%s\"", blk_fnames[i]);
  sb_printf(&s, "],\n  \"device_config\": {");
  /* values are decimal numbers or true / false: JSON as they are */
  for (unsigned i = 0; i < b->nkv; i++)
    sb_printf(&s, "%s\"%s\": %s", i ? ", " : "", b->keys[i], b->vals[i]);
  sb_printf(&s, "},\n  \"steps\": [");
  size_t hi = BLK_SCR_LEN;
  while (hi > 0 && mem[hi - 1] == 0) hi--;
  if (hi) {
    sb_printf(&s, "\n    {\"op\": \"raw.write\", \"addr\": \"0x%" PRIx64 "\", \"data\": ",
              BLK_SCR + move);
    sb_hex(&s, mem, hi);
    sb_printf(&s, "},");
  }
  for (uint32_t i = 0; i < b->nseg; i++) {
    bool more = i + 1 < b->nseg;
    unsigned flags = (more ? VRING_DESC_F_NEXT : 0u) | (b->seg[i].write ? VRING_DESC_F_WRITE : 0u);
    sb_printf(&s,
              "\n    {\"op\": \"raw.desc\", \"index\": %u, \"addr\": \"0x%" PRIx64
              "\", \"len\": %u, \"flags\": %u, \"next\": %u},",
              i, b->seg[i].gpa + move, b->seg[i].len, flags, more ? i + 1 : 0);
  }
  sb_printf(&s, "\n    {\"op\": \"raw.avail\", \"heads\": [0]},\n    {\"op\": \"wait\"}\n  ]\n}\n");
  return sb_take(&s, len);
}

/* ---- decode --------------------------------------------------------------- */

static const vsim_fuzz_target targets[] = {
    {"fuzz_split_device", VSIM_FUZZ_RING_DEVICE,
     "a malicious driver's split-ring ops against the built-in blk device", "split", 5,
     split_header, split_layout, split_ops, sizeof split_ops / sizeof split_ops[0]},
    {"fuzz_packed_device", VSIM_FUZZ_RING_DEVICE,
     "a malicious driver's packed-ring ops against the built-in blk device", "packed", 6,
     packed_header, packed_layout, packed_ops, sizeof packed_ops / sizeof packed_ops[0]},
    {"fuzz_split_driver", VSIM_FUZZ_RING_DRIVER,
     "a malicious device's split-ring output against the driver model", "split", 5,
     split_driver_header, split_layout, split_driver_ops,
     sizeof split_driver_ops / sizeof split_driver_ops[0]},
    {"fuzz_packed_driver", VSIM_FUZZ_RING_DRIVER,
     "a malicious device's packed-ring output against the driver model", "packed", 5,
     packed_driver_header, packed_layout, packed_driver_ops,
     sizeof packed_driver_ops / sizeof packed_driver_ops[0]},
    {"fuzz_scenario", VSIM_FUZZ_SCENARIO, "the JSON scenario loader and validator", NULL, 0, NULL,
     NULL, NULL, 0},
    {"fuzz_blk_request", VSIM_FUZZ_BLK_REQUEST,
     "one descriptor chain against the blk model's request parser", NULL, 0, NULL, NULL, NULL, 0},
    {"fuzz_vhost_user", VSIM_FUZZ_VHOST_USER,
     "a scripted back-end's replies and ring updates against the vhost-user front-end", NULL, 0, NULL,
     NULL, NULL, 0},
    /* the device request targets (sim/fuzz_dev.c): the common header, then the device's own */
    {"fuzz_net_request", VSIM_FUZZ_REQ_DEVICE,
     "a hostile driver's transmit, control and receive requests and host frames against the built-in net model",
     "split", VSIM_FZ_DEV_HEADER + 5, vsim_fz_net_header, NULL, vsim_fz_net_ops, VSIM_FZ_NET_NOPS},
    {"fuzz_gpu_request", VSIM_FUZZ_REQ_DEVICE,
     "a hostile driver's controlq and cursorq commands and backing memory against the built-in gpu model",
     "split", VSIM_FZ_DEV_HEADER + 2, vsim_fz_gpu_header, NULL, vsim_fz_gpu_ops, VSIM_FZ_GPU_NOPS},
    {"fuzz_console_request", VSIM_FUZZ_REQ_DEVICE,
     "a hostile driver's port data and control messages and host input against the built-in console model",
     "split", VSIM_FZ_DEV_HEADER + 3, vsim_fz_console_header, NULL, vsim_fz_console_ops, VSIM_FZ_CONSOLE_NOPS},
    {"fuzz_input_request", VSIM_FUZZ_REQ_DEVICE,
     "a hostile driver's status events, eventq buffers and config queries against the built-in input model",
     "split", VSIM_FZ_DEV_HEADER + 1, vsim_fz_input_header, NULL, vsim_fz_input_ops, VSIM_FZ_INPUT_NOPS},
};

const vsim_fuzz_target *vsim_fuzz_target_at(size_t i) {
  return i < sizeof targets / sizeof targets[0] ? &targets[i] : NULL;
}

const vsim_fuzz_target *vsim_fuzz_target_find(const char *name) {
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
    if (name && strcmp(targets[i].name, name) == 0) return &targets[i];
  return NULL;
}

bool vsim_fuzz_target_plants(const vsim_fuzz_target *t) {
  return t && (t->kind == VSIM_FUZZ_RING_DEVICE || t->kind == VSIM_FUZZ_RING_DRIVER ||
               t->kind == VSIM_FUZZ_REQ_DEVICE);
}

char *vsim_fuzz_decode(const vsim_fuzz_target *t, const uint8_t *data, size_t size, vsim_mutset mutants,
                       size_t *len, vsim_fuzz_info *info) {
  if (info) memset(info, 0, sizeof *info);
  if (!t) return NULL;
  if (!data) size = 0;
  switch (t->kind) {
    case VSIM_FUZZ_RING_DEVICE:
    case VSIM_FUZZ_RING_DRIVER:
    case VSIM_FUZZ_REQ_DEVICE: return decode_ring(t, data, size, mutants, len, info);
    case VSIM_FUZZ_SCENARIO: {
      char *p = malloc(size + 1);
      if (!p) return NULL;
      if (size) memcpy(p, data, size);
      p[size] = 0;
      if (len) *len = size;
      if (info) info->input_hash = fnv1a(data, size);
      return p;
    }
    case VSIM_FUZZ_VHOST_USER: {
      char *script = NULL;
      char *p = vsim_fuzz_vu_decode(data, size, len, &script, NULL, info);
      free(script);
      return p;
    }
    case VSIM_FUZZ_BLK_REQUEST: {
      blk_in b;
      uint8_t *mem = malloc(BLK_SCR_LEN);
      if (!mem) return NULL;
      blk_decode(data, size, &b, mem);
      uint64_t hash = fnv1a(data, size);
      char *p = blk_scenario(&b, mem, size, hash, len);
      free(mem);
      if (info) info->input_hash = hash;
      return p;
    }
  }
  return NULL;
}

char *vsim_fuzz_decode_script(const vsim_fuzz_target *t, const uint8_t *data, size_t size, size_t *len) {
  if (!t || t->kind != VSIM_FUZZ_VHOST_USER) return NULL;
  if (!data) size = 0;
  char *script = NULL;
  size_t slen = 0;
  char *p = vsim_fuzz_vu_decode(data, size, &slen, &script, len, NULL);
  free(p);
  return script;
}

uint8_t *vsim_fuzz_complete(const vsim_fuzz_target *t, const uint8_t *data, size_t size, unsigned profile,
                            size_t *outlen, char *err, size_t errlen) {
  if (!t || t->kind != VSIM_FUZZ_VHOST_USER) {
    snprintf(err, errlen, "%s has no conversation to complete (fuzz_vhost_user only)", t ? t->name : "(none)");
    return NULL;
  }
  return vsim_fuzz_vu_complete(data ? data : (const uint8_t *)"", data ? size : 0, profile, outlen, err, errlen);
}

/* ---- oracles -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int finding(char *msg, size_t n, const char *fmt,
                                                         ...) {
  if (msg && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, n, fmt, ap);
    va_end(ap);
  }
  return VSIM_FUZZ_FINDING;
}

/* The driver targets' watch on the driver model, fed by the engine's event
 * stream (vsim_options.on_event) and by a look at the model's bookkeeping
 * after every scheduler step. The first finding is kept. */
typedef struct drv_watch {
  const vsim_sim *s;      /* set once loaded */
  const char *target;
  uint64_t step;          /* the scheduler step of the reaps counted below */
  uint32_t reaps, reap_cap;
  bool found;
  char msg[768];
} drv_watch;

__attribute__((format(printf, 2, 3))) static void watch_finding(drv_watch *w, const char *fmt, ...) {
  if (w->found) return;
  w->found = true;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->msg, sizeof w->msg, fmt, ap);
  va_end(ap);
}

/* Every completion the driver returns (VSIM_EV_REAP: q, a = id, b = len): from
 * a queue it has not stopped, for an id of the ring, with no more bytes than
 * the chain offered, and a bounded number per scheduler step (each reap pass
 * returns at most queue size + 1 per queue). */
static void watch_event(void *ctx, uint64_t step, int32_t actor, int32_t kind, int32_t q, uint64_t a,
                        uint64_t b, uint64_t c, uint64_t dd) {
  drv_watch *w = ctx;
  if (kind != VSIM_EV_REAP || !w->s || w->found) return;
  const vsim_driver *drv = vsim_sim_view_driver(w->s);
  if (q < 0 || q >= drv->nq || !drv->vq_init[q]) {
    watch_finding(w, "%s: the driver reaped queue %d, which is not set up", w->target, q);
    return;
  }
  bool broken = drv->packed ? drv->pvq[q].broken : drv->vq[q].broken;
  uint16_t size = drv->packed ? drv->pvq[q].size : drv->vq[q].size;
  if (broken)
    watch_finding(w, "%s: the driver reaped id %" PRIu64 " from queue %d after it stopped the queue", w->target,
                  a, q);
  else if (a >= size)
    watch_finding(w, "%s: the driver returned id %" PRIu64 " on queue %d of size %u", w->target, a, q, size);
  else if (b > (drv->packed ? drv->pvq[q].slot[a].wr_bytes : drv->vq[q].slot[a].wr_bytes))
    watch_finding(w, "%s: the driver returned len %" PRIu64 " for id %" PRIu64 " on queue %d, above the %u "
                  "device-writable bytes it offered", w->target, b, a, q,
                  drv->packed ? drv->pvq[q].slot[a].wr_bytes : drv->vq[q].slot[a].wr_bytes);
  if (step != w->step) {
    w->step = step;
    w->reaps = 0;
  }
  if (++w->reaps > w->reap_cap)
    watch_finding(w, "%s: unbounded work: more than %u completions reaped in scheduler step %" PRIu64,
                  w->target, w->reap_cap, step);
}

static int run_ring(const vsim_fuzz_target *t, const uint8_t *data, size_t size,
                    const vsim_fuzz_oracle *o, char *msg, size_t n) {
  vsim_fuzz_info info;
  size_t len = 0;
  char *json = vsim_fuzz_decode(t, data, size, o ? o->mutants : VSIM_MUT_NONE, &len, &info);
  if (!json) return VSIM_FUZZ_ERROR;
  char err[1024] = "";
  const bool driver = t->kind == VSIM_FUZZ_RING_DRIVER;
  const bool reqdev = t->kind == VSIM_FUZZ_REQ_DEVICE;
  drv_watch w = {.target = t->name, .reap_cap = (uint32_t)info.num_queues * (info.queue_size + 1u)};
  vsim_options opt = {.on_event = watch_event, .on_event_ctx = &w};
  vsim_sim *s = vsim_sim_load_buffer(json, len, t->name, driver ? &opt : NULL, err, sizeof err);
  free(json);
  if (!s) return finding(msg, n, "%s: the decoded scenario does not load (decoder bug): %s", t->name, err);
  w.s = s;
  int verdict = VSIM_FUZZ_OK;
  /* vsim_sim_step also returns 1 when it only advanced the virtual clock, so
   * count calls separately from scheduler steps: a clock that jumps forever
   * would never reach max_steps */
  uint64_t calls = 0, call_cap = 4 * info.max_steps + 1024;
  int r;
  while ((r = vsim_sim_step(s)) == 1) {
    if (driver) {
      /* the bookkeeping after every step: a double free shows at once */
      char what[256];
      if (!w.found && vsim_driver_audit(vsim_sim_view_driver(s), what, sizeof what))
        watch_finding(&w, "%s: the driver's bookkeeping is broken after scheduler step %" PRIu64 ": %s",
                      t->name, vsim_sim_steps(s), what);
      if (w.found) break;
    }
    if (++calls > call_cap) {
      verdict = finding(msg, n,
                        "%s: the run does not end: %" PRIu64 " step calls (%" PRIu64
                        " scheduler steps) without finishing",
                        t->name, calls, vsim_sim_steps(s));
      break;
    }
  }
  if (w.found) verdict = finding(msg, n, "%s", w.msg);
  if (verdict == VSIM_FUZZ_OK && r < 0)
    verdict = finding(msg, n, "%s: engine error: vsim_sim_step returned %d at scheduler step %" PRIu64,
                      t->name, r, vsim_sim_steps(s));
  if (verdict == VSIM_FUZZ_OK && driver) {
    uint64_t faults = vsim_arena_fault_count_side(vsim_sim_arena(s), VSIM_SIDE_DRIVER);
    if (faults)
      verdict = finding(msg, n, "%s: the driver model made %" PRIu64 " access(es) outside guest memory",
                        t->name, faults);
  }
  if (verdict == VSIM_FUZZ_OK) {
    vsim_sim_run(s); /* already over: only the end-of-run bookkeeping */
    uint64_t steps = vsim_sim_steps(s);
    if (steps >= info.max_steps)
      verdict = finding(msg, n,
                        "%s: unbounded work: the run hit max_steps = %" PRIu64
                        ", the O(steps x queue size) bound for %u steps on a queue of %u",
                        t->name, info.max_steps, info.steps, info.queue_size);
  }
  for (size_t i = 0; verdict == VSIM_FUZZ_OK && i < vsim_sim_violation_count(s); i++) {
    const vsim_violation *v = vsim_sim_violation(s, i);
    const vsim_check_info *ci = vsim_check_info_get(v->check);
    const char *why = NULL;
    /* against a malicious device, what judges the device is not a finding */
    if (driver && ci && ci->judged == VSIM_JUDGED_DEVICE && v->check != VSIM_CHK_LIVENESS_STALL) continue;
    if (v->check == VSIM_CHK_MEM_DEV_OOB)
      why = "the device accessed guest memory it was not given";
    else if (v->check == VSIM_CHK_LIVENESS_DEV_WORK)
      why = "unbounded work: the device did more than O(queue size) work on one chain";
    else if (v->check == VSIM_CHK_LIVENESS_STALL && strstr(v->detail, "spinning"))
      why = "an actor stayed runnable without doing anything";
    else if (reqdev && ci && ci->judged == VSIM_JUDGED_DEVICE)
      /* the driver model builds every ring structure itself: only the
       * request bytes, the host side and the lifecycle are the input's, so
       * a correct model gives a device-judged check no reason to fire */
      why = "a device-side check fired on the correct model";
    else if (o && v->check >= 0 && v->check < VSIM_CHK__COUNT && o->fatal[v->check])
      why = "a check listed as fatal fired";
    if (why)
      verdict = finding(msg, n, "%s: %s: %s at step %" PRIu64 ", queue %d: %s", t->name, why,
                        ci ? ci->id : "?", v->step, (int)v->queue, v->detail);
  }
  vsim_sim_free(s);
  return verdict;
}

static int run_scenario(const uint8_t *data, size_t size, char *msg, size_t n) {
  /* "plugin:PATH" would dlopen() whatever library the input names: the
   * registry is not what this target fuzzes */
  static const char needle[] = "plugin:";
  for (size_t i = 0; i + sizeof needle - 1 <= size; i++)
    if (memcmp(data + i, needle, sizeof needle - 1) == 0) return VSIM_FUZZ_OK;
  static const char name[] = "fuzz-input";
  char err[1024] = "";
  vsim_sim *s = vsim_sim_load_buffer((const char *)data, size, name, NULL, err, sizeof err);
  if (s) {
    vsim_sim_free(s);
    return VSIM_FUZZ_OK;
  }
  if (!err[0]) return finding(msg, n, "fuzz_scenario: the loader refused the input without a message");
  if (strncmp(err, name, sizeof name - 1) != 0 || err[sizeof name - 1] != ':')
    return finding(msg, n, "fuzz_scenario: the error does not start with the file name: %s", err);
  return VSIM_FUZZ_OK;
}

/* ---- the blk request oracle ---- */

/* The model's host: nothing to notify, a clock that stands still. */
static void host_irq(void *ctx, uint16_t q) {}
static void host_cfg(void *ctx) {}
static void host_viol(void *ctx, int check, int q, const char *detail) {}
static void host_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {}
static uint64_t host_now(void *ctx) { return 0; }

/* Copy `len` bytes at offset `off` of one part of the chain out of `mem`,
 * a copy of the arena's bytes. */
static bool gather(const vsim_chain *c, const uint8_t *mem, bool write, uint64_t off, uint8_t *dst,
                   uint64_t len) {
  for (uint32_t i = write ? c->nread : 0; i < (write ? c->nseg : c->nread) && len; i++) {
    const vsim_seg *s = &c->seg[i];
    if (off >= s->len) {
      off -= s->len;
      continue;
    }
    uint64_t k = s->len - off < len ? s->len - off : len;
    memcpy(dst, mem + s->gpa + off, k);
    dst += k;
    len -= k;
    off = 0;
  }
  return len == 0;
}

/* [sector * 512, + len) inside a disk of `bytes` bytes, without overflow. */
static bool in_disk(uint64_t sector, uint64_t len, uint64_t bytes) {
  return sector <= bytes / 512u && len <= bytes - sector * 512u;
}

static bool writable_disjoint(const vsim_chain *c) {
  for (uint32_t i = c->nread; i < c->nseg; i++)
    for (uint32_t j = i + 1; j < c->nseg; j++) {
      const vsim_seg *x = &c->seg[i], *y = &c->seg[j];
      if (x->len && y->len && x->gpa < y->gpa + y->len && y->gpa < x->gpa + x->len) return false;
    }
  return true;
}

/* Working buffers of one execution, each at most 64 KiB (see BLK_SCR). */
typedef struct blk_bufs {
  uint8_t *before; /* the whole arena before the request */
  uint8_t *mask;   /* 1 where a device-writable buffer lies (whole arena) */
  uint8_t *tmp;    /* payload comparisons */
  uint8_t *disk;   /* the disk before the request */
} blk_bufs;

/* The first byte of the arena that changed where no writable buffer lies. */
static bool stray_write(const uint8_t *before, const uint8_t *after, const uint8_t *mask,
                        uint64_t *at) {
  for (uint64_t blk = 0; blk < BLK_ARENA; blk += 256) {
    if (memcmp(before + blk, after + blk, 256) == 0) continue;
    for (uint64_t g = blk; g < blk + 256; g++)
      if (before[g] != after[g] && !mask[g]) {
        *at = g;
        return true;
      }
  }
  return false;
}

static int blk_check(const blk_in *b, const uint8_t *mem, blk_bufs *w, vsim_arena *a, void *model,
                     char *msg, size_t n) {
  vsim_chain c = {0, b->nseg, b->nread, 0, 0, (vsim_seg *)b->seg};
  for (uint32_t i = 0; i < b->nseg; i++) {
    if (b->seg[i].write) {
      c.wr_bytes += b->seg[i].len;
      memset(w->mask + b->seg[i].gpa, 1, b->seg[i].len);
    } else {
      c.rd_bytes += b->seg[i].len;
    }
  }
  if (vsim_arena_write(a, VSIM_SIDE_DRIVER, BLK_SCR, mem, BLK_SCR_LEN)) return VSIM_FUZZ_ERROR;
  memcpy(w->before, vsim_arena_base(a), BLK_ARENA);
  uint64_t disk_bytes = 0;
  const uint8_t *disk = vsim_blk_disk(model, &disk_bytes);
  if (disk_bytes > BLK_SCR_LEN) return VSIM_FUZZ_ERROR; /* the decoder asks for at most 32 KiB */
  memcpy(w->disk, disk, disk_bytes);
  uint64_t faults = vsim_arena_fault_count(a);

  uint32_t used = 0;
  int r = vsim_blk_model_request(model, 0, &c, &used);
  const uint8_t *after = vsim_arena_base(a);

  /* the header as the device read it (zeros when there is no room for one) */
  uint8_t hdr[16] = {0};
  if (c.rd_bytes >= 16) gather(&c, w->before, false, 0, hdr, 16);
  uint32_t type = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8) | ((uint32_t)hdr[2] << 16) |
                  ((uint32_t)hdr[3] << 24);
  uint64_t sector = 0;
  for (unsigned k = 0; k < 8; k++) sector |= (uint64_t)hdr[8 + k] << (8 * k);
  bool disk_same = memcmp(w->disk, disk, disk_bytes) == 0;

  if (vsim_arena_fault_count(a) != faults)
    return finding(msg, n, "fuzz_blk_request: the model made %" PRIu64 " refused guest access(es)",
                   vsim_arena_fault_count(a) - faults);
  uint64_t at;
  if (stray_write(w->before, after, w->mask, &at))
    return finding(msg, n,
                   "fuzz_blk_request: the model wrote guest byte 0x%" PRIx64
                   " (0x%02x -> 0x%02x), outside every device-writable buffer",
                   at, w->before[at], after[at]);
  bool usable = c.rd_bytes >= 16 && c.wr_bytes >= 1;
  if (r < 0) {
    if (usable)
      return finding(msg, n,
                     "fuzz_blk_request: request() refused a chain with %" PRIu64
                     " readable and %" PRIu64 " writable bytes",
                     c.rd_bytes, c.wr_bytes);
    if (!disk_same) return finding(msg, n, "fuzz_blk_request: a refused chain changed the disk");
    return VSIM_FUZZ_OK;
  }
  if (!usable)
    return finding(msg, n,
                   "fuzz_blk_request: request() answered a chain with %" PRIu64
                   " readable and %" PRIu64 " writable bytes (no room for header or status)",
                   c.rd_bytes, c.wr_bytes);
  uint8_t status = 0xff;
  gather(&c, after, true, c.wr_bytes - 1, &status, 1);
  if (status > VIRTIO_BLK_S_UNSUPP)
    return finding(msg, n, "fuzz_blk_request: status byte %u (type %u)", status, type);
  if (used == 0 || used > c.wr_bytes)
    return finding(msg, n,
                   "fuzz_blk_request: used_len %u with %" PRIu64 " device-writable bytes (type %u)",
                   used, c.wr_bytes, type);
  if (status != VIRTIO_BLK_S_OK && used != 1)
    return finding(msg, n,
                   "fuzz_blk_request: status %u but used_len %u (only the status byte was written)",
                   status, used);
  bool write_type = type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_DISCARD ||
                    type == VIRTIO_BLK_T_WRITE_ZEROES;
  if (status == VIRTIO_BLK_S_OK && b->ro && write_type)
    return finding(msg, n, "fuzz_blk_request: a type %u write completed OK on a read-only device",
                   type);
  if ((status != VIRTIO_BLK_S_OK || !write_type) && !disk_same)
    return finding(msg, n, "fuzz_blk_request: the disk changed on a type %u request with status %u",
                   type, status);
  uint64_t data_rd = c.rd_bytes - 16, data_wr = c.wr_bytes - 1;
  if (status == VIRTIO_BLK_S_OK && type == VIRTIO_BLK_T_OUT && data_rd <= BLK_SCR_LEN) {
    /* the disk holds exactly the payload the chain carried */
    if (!gather(&c, w->before, false, 16, w->tmp, data_rd) || !in_disk(sector, data_rd, disk_bytes) ||
        memcmp(disk + sector * 512u, w->tmp, data_rd) != 0)
      return finding(msg, n,
                     "fuzz_blk_request: OUT of %" PRIu64 " bytes at sector %" PRIu64
                     " completed OK but the disk does not hold the payload",
                     data_rd, sector);
  }
  if (status == VIRTIO_BLK_S_OK && type == VIRTIO_BLK_T_IN && writable_disjoint(&c) &&
      data_wr <= BLK_SCR_LEN) {
    /* the buffers hold the disk's bytes, and used_len counts them and the status */
    if (used != data_wr + 1 || !gather(&c, after, true, 0, w->tmp, data_wr) ||
        !in_disk(sector, data_wr, disk_bytes) || memcmp(disk + sector * 512u, w->tmp, data_wr) != 0)
      return finding(msg, n,
                     "fuzz_blk_request: IN of %" PRIu64 " bytes at sector %" PRIu64
                     " completed OK (used_len %u) but the buffers do not hold the disk's bytes",
                     data_wr, sector, used);
  }
  return VSIM_FUZZ_OK;
}

static int run_blk(const uint8_t *data, size_t size, char *msg, size_t n) {
  blk_in b;
  blk_bufs w = {malloc(BLK_ARENA), calloc(1, BLK_ARENA), malloc(BLK_SCR_LEN), malloc(BLK_SCR_LEN)};
  uint8_t *mem = malloc(BLK_SCR_LEN);
  vsim_arena *a = vsim_arena_new(BLK_ARENA);
  vsim_backend be = {0};
  int verdict = VSIM_FUZZ_ERROR;
  if (!w.before || !w.mask || !w.tmp || !w.disk || !mem || !a) goto out;
  blk_decode(data, size, &b, mem);
  vsim_host host = {NULL, a, host_irq, host_cfg, host_viol, host_event, host_now};
  const char *vals[BLK_MAX_KV];
  for (unsigned i = 0; i < b.nkv; i++) vals[i] = b.vals[i];
  vsim_backend_params p = {.host = &host,
                           .num_queues = 1,
                           .queue_max_size = 256,
                           .config_keys = b.keys,
                           .config_values = vals,
                           .config_count = b.nkv};
  char err[256] = "";
  if (vsim_blk_create(&p, &be, err, sizeof err)) {
    be.ops = NULL;
    verdict = finding(msg, n, "fuzz_blk_request: vsim_blk_create refused the decoded config: %s", err);
    goto out;
  }
  /* negotiate through the ops table, as a transport would */
  const vsim_backend_ops *ops = be.ops;
  uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE;
  ops->set_status(be.be, st);
  st |= VIRTIO_CONFIG_S_DRIVER;
  ops->set_status(be.be, st);
  ops->set_driver_features(be.be, b.features & ops->device_features(be.be));
  st |= VIRTIO_CONFIG_S_FEATURES_OK;
  ops->set_status(be.be, st);
  if (!(ops->get_status(be.be) & VIRTIO_CONFIG_S_FEATURES_OK)) {
    verdict = finding(msg, n, "fuzz_blk_request: the model refused FEATURES_OK for 0x%" PRIx64,
                      b.features);
    goto out;
  }
  ops->set_status(be.be, st | VIRTIO_CONFIG_S_DRIVER_OK);
  verdict = blk_check(&b, mem, &w, a, be.be, msg, n);
out:
  if (be.ops) be.ops->destroy(be.be);
  vsim_arena_free(a);
  free(mem);
  free(w.before);
  free(w.mask);
  free(w.tmp);
  free(w.disk);
  return verdict;
}

int vsim_fuzz_run(const vsim_fuzz_target *t, const uint8_t *data, size_t size,
                  const vsim_fuzz_oracle *oracle, char *msg, size_t msglen) {
  if (msg && msglen) msg[0] = 0;
  if (!t) return VSIM_FUZZ_ERROR;
  if (!data) size = 0;
  switch (t->kind) {
    case VSIM_FUZZ_RING_DEVICE:
    case VSIM_FUZZ_RING_DRIVER:
    case VSIM_FUZZ_REQ_DEVICE: return run_ring(t, data, size, oracle, msg, msglen);
    case VSIM_FUZZ_SCENARIO: return run_scenario(data ? data : (const uint8_t *)"", size, msg, msglen);
    case VSIM_FUZZ_BLK_REQUEST: return run_blk(data, size, msg, msglen);
    case VSIM_FUZZ_VHOST_USER:
      return vsim_fuzz_vu_run(data ? data : (const uint8_t *)"", size, oracle, msg, msglen);
  }
  return VSIM_FUZZ_ERROR;
}
