/* tests/c/test_net_model.c — unit tests of the virtio-net device model.
 *
 * Owns: the edges scenarios reach only with effort: the feature requirement
 * table (net_deps), the transmit checksum at the last byte it may touch and
 * one past it, odd-length frames, GSO gating, transmit on a pair not
 * enabled, the capture bound, and the control queue fed every malformed
 * shape (short, long, no ack byte, a data part larger than any command, MAC
 * tables at and past their bound). Chains are hand-built in an arena and fed
 * straight to the model's request through its device core, with features
 * negotiated through the generic backend ops, as in test_blk_model.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include "devcore.h"
#include "net.h"
#include "net_deps.h"
#include "testutil.h"
#include "virtio_compat.h"

#define BIT(b) (UINT64_C(1) << (b))
#define ARENA_SIZE (UINT64_C(1) << 20)
#define OUT_GPA 0x10000u
#define IN_GPA 0x80000u

typedef struct rec {
  unsigned interrupts, config_changes, violations;
} rec;

static void h_interrupt(void *ctx, uint16_t q) { ((rec *)ctx)->interrupts++; }
static uint64_t h_now(void *ctx) { return 0; }
static void h_config_changed(void *ctx) { ((rec *)ctx)->config_changes++; }
static void h_violation(void *ctx, int check, int q, const char *detail) { ((rec *)ctx)->violations++; }
static void h_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {}

typedef struct fixture {
  vsim_arena *arena;
  rec r;
  vsim_host host;
  vsim_backend be;
  vsim_seg segs[4];
  vsim_chain chain;
  char err[256];
} fixture;

static int fx_open(fixture *f, uint16_t nq, const char *const *keys, const char *const *vals, unsigned n) {
  memset(f, 0, sizeof *f);
  f->arena = vsim_arena_new(ARENA_SIZE);
  f->host = (vsim_host){&f->r, f->arena, h_interrupt, h_config_changed, h_violation, h_event, h_now};
  vsim_backend_params p = {0};
  p.host = &f->host;
  p.num_queues = nq;
  p.config_keys = keys;
  p.config_values = vals;
  p.config_count = n;
  return vsim_net_create(&p, &f->be, f->err, sizeof f->err);
}

static void fx_close(fixture *f) {
  if (f->be.ops) f->be.ops->destroy(f->be.be);
  vsim_arena_free(f->arena);
}

static uint8_t negotiate(fixture *f, uint64_t features) {
  const vsim_backend_ops *ops = f->be.ops;
  void *be = f->be.be;
  ops->set_status(be, 0);
  ops->set_status(be, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  ops->set_driver_features(be, features);
  uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
  ops->set_status(be, s);
  if (!(ops->get_status(be) & VIRTIO_CONFIG_S_FEATURES_OK)) return ops->get_status(be);
  ops->set_status(be, s | VIRTIO_CONFIG_S_DRIVER_OK);
  return ops->get_status(be);
}

static uint64_t offered(fixture *f) { return f->be.ops->device_features(f->be.be); }

/* Send `out` (readable) with `in_len` writable bytes on queue q; returns the
 * request's result, the used length in *used. */
static int send(fixture *f, uint16_t q, const void *out, uint32_t out_len, uint32_t in_len, uint32_t *used) {
  memset(&f->chain, 0, sizeof f->chain);
  f->chain.seg = f->segs;
  if (out_len) {
    vsim_arena_write(f->arena, VSIM_SIDE_DRIVER, OUT_GPA, out, out_len);
    f->segs[f->chain.nseg++] = (vsim_seg){OUT_GPA, out_len, false};
    f->chain.nread = 1;
    f->chain.rd_bytes = out_len;
  }
  if (in_len) {
    uint8_t poison[64];
    memset(poison, 0xa5, sizeof poison);
    vsim_arena_write(f->arena, VSIM_SIDE_DRIVER, IN_GPA, poison, in_len < 64 ? in_len : 64);
    f->segs[f->chain.nseg++] = (vsim_seg){IN_GPA, in_len, true};
    f->chain.wr_bytes = in_len;
  }
  const vsim_devcore *dc = f->be.be;
  uint32_t u = 0xdeadbeef;
  int r = dc->mops->request(dc->model, q, &f->chain, &u);
  if (used) *used = u;
  return r;
}

static uint8_t ack_of(fixture *f) { return ((const uint8_t *)vsim_arena_base(f->arena))[IN_GPA]; }

/* class, command and data; the ack comes back (0xee: no used ack byte) */
static uint8_t ctrl(fixture *f, uint16_t q, const uint8_t *cmd, uint32_t len) {
  uint32_t used = 0;
  if (send(f, q, cmd, len, 1, &used) != 0 || used != 1) return 0xee;
  return ack_of(f);
}

static void test_deps(void) {
  CHECK_EQ(vsim_net_unmet_deps(0), 0);
  CHECK_EQ(vsim_net_unmet_deps(BIT(VIRTIO_NET_F_GUEST_TSO4)), BIT(VIRTIO_NET_F_GUEST_TSO4));
  CHECK_EQ(vsim_net_unmet_deps(BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_CSUM)), 0);
  /* ECN needs TSO4 or TSO6: either will do */
  CHECK_EQ(vsim_net_unmet_deps(BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_CSUM)), 0);
  CHECK_EQ(vsim_net_unmet_deps(BIT(VIRTIO_NET_F_HOST_ECN)), BIT(VIRTIO_NET_F_HOST_ECN));
  CHECK_EQ(vsim_net_unmet_deps(BIT(VIRTIO_NET_F_MQ)), BIT(VIRTIO_NET_F_MQ));
  /* closing drops a chain of requirements: ECN goes with the TSO4 it needed */
  uint64_t f = BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_MAC);
  CHECK_EQ(vsim_net_close_deps(f), BIT(VIRTIO_NET_F_MAC));
  CHECK_EQ(vsim_net_unmet_deps(vsim_net_close_deps(~UINT64_C(0))), 0);
}

static void test_features_ok_refuses_broken_sets(void) {
  fixture f;
  CHECK_EQ(fx_open(&f, 3, NULL, NULL, 0), 0);
  uint64_t all = offered(&f);
  CHECK(all & BIT(VIRTIO_NET_F_MQ));
  CHECK(negotiate(&f, all) & VIRTIO_CONFIG_S_DRIVER_OK);
  uint8_t st = negotiate(&f, all & ~BIT(VIRTIO_NET_F_CSUM)); /* HOST_TSO4 without CSUM */
  CHECK(!(st & VIRTIO_CONFIG_S_FEATURES_OK));
  st = negotiate(&f, all & ~BIT(VIRTIO_NET_F_CTRL_VQ)); /* CTRL_RX, MQ... without it */
  CHECK(!(st & VIRTIO_CONFIG_S_FEATURES_OK));
  CHECK(negotiate(&f, vsim_net_close_deps(all & ~BIT(VIRTIO_NET_F_CTRL_VQ))) & VIRTIO_CONFIG_S_DRIVER_OK);
  fx_close(&f);
}

/* Ethernet + IPv4 + UDP of `payload` bytes, UDP checksum field = pseudo sum. */
static uint32_t udp_frame(uint8_t *p, uint32_t payload) {
  memset(p, 0, 42 + payload);
  memset(p, 0xff, 6);
  p[12] = 0x08;
  p[14] = 0x45;
  uint32_t ulen = 8 + payload;
  p[16] = (uint8_t)((20 + ulen) >> 8);
  p[17] = (uint8_t)(20 + ulen);
  p[23] = 17;
  p[26] = 10, p[29] = 1, p[30] = 10, p[33] = 2;
  p[38] = (uint8_t)(ulen >> 8);
  p[39] = (uint8_t)ulen;
  for (uint32_t i = 0; i < payload; i++) p[42 + i] = (uint8_t)(i * 7 + 1);
  return 42 + payload;
}

/* ones' complement sum over [p, p+len) (no inversion) */
static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t s) {
  for (uint32_t i = 0; i + 1 < len; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (len & 1) s += (uint32_t)p[len - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s;
}

static uint32_t tx(fixture *f, uint16_t q, uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t cs, uint16_t co,
                   const uint8_t *frame, uint32_t len) {
  static uint8_t buf[VSIM_NET_HDR_LEN + 2048];
  memset(buf, 0, VSIM_NET_HDR_LEN);
  buf[0] = flags;
  buf[1] = gso;
  buf[4] = (uint8_t)gso_size, buf[5] = (uint8_t)(gso_size >> 8);
  buf[6] = (uint8_t)cs, buf[7] = (uint8_t)(cs >> 8);
  buf[8] = (uint8_t)co, buf[9] = (uint8_t)(co >> 8);
  memcpy(buf + VSIM_NET_HDR_LEN, frame, len);
  uint32_t before = vsim_net_frames(f->be.be);
  uint32_t used = 1;
  CHECK_EQ(send(f, q, buf, VSIM_NET_HDR_LEN + len, 0, &used), 0);
  CHECK_EQ(used, 0);
  return vsim_net_frames(f->be.be) - before; /* 1: on the wire, 0: dropped */
}

static void test_tx_checksum(void) {
  fixture f;
  CHECK_EQ(fx_open(&f, 3, NULL, NULL, 0), 0);
  negotiate(&f, offered(&f));
  uint8_t fr[2048];
  for (uint32_t payload = 19; payload <= 20; payload++) { /* odd and even lengths */
    uint32_t len = udp_frame(fr, payload);
    /* pseudo header: addresses, protocol, UDP length */
    uint32_t ps = sum16(fr + 26, 8, 17 + (8 + payload));
    fr[40] = (uint8_t)(ps >> 8), fr[41] = (uint8_t)ps;
    CHECK_EQ(tx(&f, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 6, fr, len), 1);
    const uint8_t *w = NULL;
    const vsim_net_frame *nf = vsim_net_frame_at(f.be.be, vsim_net_frames(f.be.be) - 1, &w);
    CHECK(nf && nf->len == len && nf->queue == 1);
    /* a correct UDP checksum sums with the pseudo header to 0xffff */
    if (nf) CHECK_EQ(sum16(w + 34, len - 34, sum16(fr + 26, 8, 17 + (8 + payload))), 0xffff);
  }
  uint32_t len = udp_frame(fr, 20);
  /* the checksum field's last byte at the frame's last byte: fine; one past: dropped */
  CHECK_EQ(tx(&f, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, (uint16_t)(len - 2), 0, fr, len), 1);
  CHECK_EQ(tx(&f, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, (uint16_t)(len - 1), 0, fr, len), 0);
  CHECK_EQ(tx(&f, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0xffff, 0xffff, fr, len), 0);
  fx_close(&f);
}

static void test_tx_rules(void) {
  fixture f;
  CHECK_EQ(fx_open(&f, 5, NULL, NULL, 0), 0);
  uint64_t all = offered(&f);
  negotiate(&f, all);
  uint8_t fr[2048];
  uint32_t len = udp_frame(fr, 20);
  CHECK_EQ(tx(&f, 1, 0, 0, 0, 0, 0, fr, len), 1);
  CHECK_EQ(tx(&f, 3, 0, 0, 0, 0, 0, fr, len), 0);     /* transmitq2 before VQ_PAIRS_SET */
  CHECK_EQ(tx(&f, 1, 0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0, 0, fr, len), 0); /* GSO without NEEDS_CSUM */
  CHECK_EQ(tx(&f, 1, 1, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 6, fr, len), 0);   /* gso_size 0 */
  CHECK_EQ(tx(&f, 1, 1, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 6, fr, len), 1);
  CHECK_EQ(tx(&f, 1, 1, VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 6, fr, len), 0);  /* ECN with no GSO type */
  CHECK_EQ(tx(&f, 1, 1, 2, 1448, 34, 6, fr, len), 0);                       /* no such GSO type */
  CHECK_EQ(tx(&f, 1, 0, 0, 0, 0, 0, fr, 0), 0);                             /* empty frame */
  uint32_t used = 1;
  CHECK_EQ(send(&f, 1, fr, 11, 0, &used), 0); /* a cut header: dropped, not a broken device */
  CHECK_EQ(used, 0);
  /* without HOST_TSO4 the same GSO frame is dropped */
  negotiate(&f, all & ~(BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_ECN)));
  CHECK_EQ(tx(&f, 1, 1, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 6, fr, len), 0);
  /* MTU: mtu + 14 goes, one more does not */
  const char *k[] = {"mtu"}, *v[] = {"100"};
  fixture g;
  CHECK_EQ(fx_open(&g, 3, k, v, 1), 0);
  negotiate(&g, offered(&g));
  memset(fr, 0, sizeof fr);
  CHECK_EQ(tx(&g, 1, 0, 0, 0, 0, 0, fr, 114), 1);
  CHECK_EQ(tx(&g, 1, 0, 0, 0, 0, 0, fr, 115), 0);
  fx_close(&g);
  fx_close(&f);
}

static void test_capture_bound(void) {
  fixture f;
  CHECK_EQ(fx_open(&f, 3, NULL, NULL, 0), 0);
  negotiate(&f, offered(&f));
  uint8_t fr[60] = {0};
  for (unsigned i = 0; i < VSIM_NET_CAPTURE_FRAMES + 3; i++) tx(&f, 1, 0, 0, 0, 0, 0, fr, sizeof fr);
  CHECK_EQ(vsim_net_frames(f.be.be), VSIM_NET_CAPTURE_FRAMES);
  CHECK_EQ(vsim_net_stats_of(f.be.be)->tx_frames, VSIM_NET_CAPTURE_FRAMES + 3);
  CHECK_EQ(vsim_net_stats_of(f.be.be)->tx_not_captured, 3);
  fx_close(&f);
}

static void test_ctrl_malformed(void) {
  fixture f;
  CHECK_EQ(fx_open(&f, 5, NULL, NULL, 0), 0); /* two pairs: the control queue is 4 */
  negotiate(&f, offered(&f));
  const uint16_t cq = 4;
  uint8_t c[1024];
  memset(c, 0, sizeof c);
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){0, 0, 1}, 3), VIRTIO_NET_OK);
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){0}, 1), VIRTIO_NET_ERR);            /* class alone */
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){0, 0}, 2), VIRTIO_NET_ERR);         /* no data */
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){0, 0, 1, 0}, 4), VIRTIO_NET_ERR);   /* one byte too many */
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){0, 3, 1}, 3), VIRTIO_NET_ERR);      /* NOMULTI: no CTRL_RX_EXTRA */
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){0xff, 0xff}, 2), VIRTIO_NET_ERR);
  CHECK_EQ(ctrl(&f, cq, c, sizeof c), VIRTIO_NET_ERR);                        /* longer than any command */
  /* VQ_PAIRS_SET: 1 and 2 of 2; 0, 3 and a 3-byte payload refused */
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){4, 0, 0, 0}, 4), VIRTIO_NET_ERR);
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){4, 0, 3, 0}, 4), VIRTIO_NET_ERR);
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){4, 0, 2, 0, 0}, 5), VIRTIO_NET_ERR);
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){4, 0, 2, 0}, 4), VIRTIO_NET_OK);
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){4, 0, 1, 0}, 4), VIRTIO_NET_OK);
  /* VLAN ids: 4095 is the last */
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){2, 0, 0xff, 0x0f}, 4), VIRTIO_NET_OK);
  CHECK_EQ(ctrl(&f, cq, (const uint8_t[]){2, 0, 0x00, 0x10}, 4), VIRTIO_NET_ERR);
  /* MAC tables: 64 unicast addresses fit, 65 do not; counts that overflow 32 bits do not wrap */
  c[0] = 1, c[1] = 0;
  uint32_t n = 64;
  memcpy(c + 2, &n, 4);
  memset(c + 6, 0x02, 64 * 6);
  memset(c + 6 + 64 * 6, 0, 4);
  CHECK_EQ(ctrl(&f, cq, c, 2 + 8 + 64 * 6), VIRTIO_NET_OK);
  n = 65;
  memcpy(c + 2, &n, 4);
  CHECK_EQ(ctrl(&f, cq, c, 2 + 8 + 65 * 6), VIRTIO_NET_ERR);
  n = 0xffffffffu;
  memcpy(c + 2, &n, 4);
  CHECK_EQ(ctrl(&f, cq, c, 2 + 8), VIRTIO_NET_ERR);
  /* no writable byte: nowhere to answer; used with length 0, never a reset */
  uint32_t used = 7;
  CHECK_EQ(send(&f, cq, (const uint8_t[]){0, 0, 1}, 3, 0, &used), 0);
  CHECK_EQ(used, 0);
  CHECK(!(f.be.ops->get_status(f.be.be) & VIRTIO_CONFIG_S_NEEDS_RESET));
  /* the driver must not write the config space; the device refuses it */
  uint8_t z = 0;
  CHECK(f.be.ops->config_write(f.be.be, 0, &z, 1) != 0);
  fx_close(&f);
}

static void test_mac_addr_set_updates_config(void) {
  fixture f;
  CHECK_EQ(fx_open(&f, 3, NULL, NULL, 0), 0);
  negotiate(&f, offered(&f));
  uint32_t gen = f.be.ops->config_generation(f.be.be);
  const uint8_t cmd[] = {1, 1, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
  CHECK_EQ(ctrl(&f, 2, cmd, sizeof cmd), VIRTIO_NET_OK);
  uint8_t mac[6];
  f.be.ops->config_read(f.be.be, 0, mac, 6);
  CHECK(memcmp(mac, cmd + 2, 6) == 0);
  CHECK(f.be.ops->config_generation(f.be.be) != gen);
  /* a reset brings the configured address back */
  negotiate(&f, offered(&f));
  f.be.ops->config_read(f.be.be, 0, mac, 6);
  CHECK(memcmp(mac, (const uint8_t[]){0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, 6) == 0);
  fx_close(&f);
}

/* NOTF_COAL and GUEST_OFFLOADS_SET: exact lengths, their features, only
 * negotiated offloads; VQ_SET / VQ_GET refused (VQ_NOTF_COAL not offered). */
static void test_coal_and_offloads_commands(void) {
  fixture f;
  CHECK_EQ(fx_open(&f, 3, NULL, NULL, 0), 0);
  CHECK(offered(&f) & BIT(VIRTIO_NET_F_NOTF_COAL));
  CHECK(offered(&f) & BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
  negotiate(&f, offered(&f) & ~BIT(VIRTIO_NET_F_GUEST_TSO4) & ~BIT(VIRTIO_NET_F_GUEST_ECN));
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){6, 0, 4, 0, 0, 0, 0xe8, 3, 0, 0}, 10), VIRTIO_NET_OK); /* TX_SET 4 / 1000 */
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){6, 1, 4, 0, 0, 0, 0, 0, 0, 0}, 10), VIRTIO_NET_OK);    /* RX_SET 4 / 0 */
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){6, 0, 4, 0, 0, 0, 0, 0, 0}, 9), VIRTIO_NET_ERR);      /* short */
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){6, 2, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0}, 14), VIRTIO_NET_ERR); /* VQ_SET */
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){5, 0, 0x02, 0, 0, 0, 0, 0, 0, 0}, 10), VIRTIO_NET_OK);  /* GUEST_CSUM */
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){5, 0, 0x82, 0, 0, 0, 0, 0, 0, 0}, 10), VIRTIO_NET_ERR); /* + GUEST_TSO4 */
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){5, 0, 0x01, 0, 0, 0, 0, 0, 0, 0}, 10), VIRTIO_NET_ERR); /* CSUM: no offload */
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){5, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 10), VIRTIO_NET_ERR);    /* no such command */
  /* without the features both classes are refused */
  negotiate(&f, offered(&f) & ~BIT(VIRTIO_NET_F_NOTF_COAL) & ~BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){6, 0, 4, 0, 0, 0, 0xe8, 3, 0, 0}, 10), VIRTIO_NET_ERR);
  CHECK_EQ(ctrl(&f, 2, (const uint8_t[]){5, 0, 0x02, 0, 0, 0, 0, 0, 0, 0}, 10), VIRTIO_NET_ERR);
  CHECK_EQ(f.r.violations, 0);
  fx_close(&f);
}

static void test_config_errors(void) {
  const char *keys[][1] = {{"mtu"},  {"mtu"},   {"max_virtqueue_pairs"}, {"mac"}, {"duplex"},
                           {"speed"}, {"link_up"}, {"nope"}};
  const char *vals[][1] = {{"67"}, {"65536"}, {"65"}, {"52:54:00:12:34:5g"}, {"2"}, {"2147483648"}, {"yes"}, {"1"}};
  for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    fixture f;
    CHECK(fx_open(&f, 3, keys[i], vals[i], 1) != 0);
    CHECK(strstr(f.err, "net:") != NULL);
    vsim_arena_free(f.arena);
  }
}

int main(void) {
  RUN(test_deps);
  RUN(test_features_ok_refuses_broken_sets);
  RUN(test_tx_checksum);
  RUN(test_tx_rules);
  RUN(test_capture_bound);
  RUN(test_ctrl_malformed);
  RUN(test_mac_addr_set_updates_config);
  RUN(test_config_errors);
  RUN(test_coal_and_offloads_commands);
  TEST_MAIN_END();
}
