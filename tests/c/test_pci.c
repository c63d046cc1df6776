/* tests/c/test_pci.c — the virtio-pci function (sim/pci.c) over the real
 * built-in blk backend, and the driver's capability walk
 * (frontend-model/transport_pci.c) against it.
 *
 * Covers: configuration space (vendor 0x1af4, device 0x1042, revision >= 1,
 * subsystem id >= 0x40, the capability-list bit, BAR sizing), the capability
 * chain (COMMON, NOTIFY with its multiplier, ISR, DEVICE, PCI_CFG, each in BAR
 * 0); common configuration read-back (NO_VECTOR, num_queues, queue_size the
 * maximum until written, queue_notify_off); the driver rules (widths,
 * read-only fields, queue_size values, queue_enable 0, queue fields while
 * enabled, notification address/width) each reported with its check and
 * without effect; ISR read-to-clear; the PCI_CFG window; a full driver
 * initialisation through vsim_drv_pci_ops with no violation; the
 * notify-multiplier mutant found by the walk.
 * Must never: use the engine (sim.c): the host callbacks here record instead.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "pci.h"
#include "registry.h"
#include "testutil.h"
#include "transport_pci.h"
#include "virtiosim/arena.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

/* ---- a recording host ------------------------------------------------------ */

#define MAXREC 4096

typedef struct rec_viol {
  int check, q;
  char detail[VSIM_VIOLATION_DETAIL_MAX];
} rec_viol;

typedef struct rec_event {
  int kind, q;
  uint64_t a, b, c, d;
} rec_event;

typedef struct rec {
  rec_viol viol[MAXREC];
  unsigned nviol;
  rec_event ev[MAXREC];
  unsigned nev;
  unsigned interrupts, config_changes;
  uint64_t clock; /* the virtual time the backend sees: stays 0 here */
} rec;

static void h_interrupt(void *ctx, uint16_t q) { ((rec *)ctx)->interrupts++; }
static void h_config(void *ctx) { ((rec *)ctx)->config_changes++; }
static void h_violation(void *ctx, int check, int q, const char *detail) {
  rec *r = ctx;
  if (r->nviol >= MAXREC) return;
  rec_viol *v = &r->viol[r->nviol++];
  v->check = check;
  v->q = q;
  snprintf(v->detail, sizeof v->detail, "%s", detail ? detail : "");
}
static uint64_t h_now(void *ctx) { return ((rec *)ctx)->clock; }
static void h_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  rec *r = ctx;
  if (r->nev >= MAXREC) return;
  r->ev[r->nev++] = (rec_event){kind, q, a, b, c, d};
}

typedef struct dut {
  rec r;
  vsim_host host;
  vsim_backend_handle be;
  vsim_tcore core;
  vsim_pci p;
  bool ok;
} dut;

static dut D;

static bool dut_open(uint64_t mutants, uint16_t nq) {
  memset(&D, 0, sizeof D);
  D.host = (vsim_host){.ctx = &D.r, .arena = vsim_arena_new(UINT64_C(1) << 20), .interrupt = h_interrupt,
                       .config_changed = h_config, .violation = h_violation, .event = h_event, .now = h_now};
  vsim_backend_params p = {0};
  p.host = &D.host;
  p.num_queues = nq;
  char err[256] = "";
  int rc = vsim_backend_open("blk", &p, &D.be, err, sizeof err);
  CHECK_EQ(rc, 0);
  if (rc) return false;
  CHECK_EQ(vsim_tcore_init(&D.core, D.be.backend, &D.host, test_mutset(mutants)), 0);
  CHECK_EQ(vsim_pci_init(&D.p, &D.core, test_mutset(mutants)), 0);
  D.ok = true;
  return true;
}

static void dut_close(void) {
  if (!D.ok) return;
  vsim_tcore_fini(&D.core);
  vsim_backend_close(&D.be);
  vsim_arena_free(D.host.arena);
  D.ok = false;
}

static unsigned count(int check) {
  unsigned n = 0;
  for (unsigned i = 0; i < D.r.nviol; i++) n += D.r.viol[i].check == check;
  return n;
}

static uint32_t cr(uint32_t off, unsigned w) { return vsim_pci_cfg_read(&D.p, off, w); }
static uint32_t br(uint32_t off, unsigned w) { return vsim_pci_bar_read(&D.p, 0, off, w); }
static void bw(uint32_t off, unsigned w, uint32_t v) { vsim_pci_bar_write(&D.p, 0, off, w, v); }
#define C(x) (VSIM_PCI_COMMON_OFF + (x))

static void test_config_space(void) {
  if (!dut_open(0, 2)) return;
  CHECK_EQ(cr(PCI_VENDOR_ID, 2), 0x1af4);
  CHECK_EQ(cr(PCI_DEVICE_ID, 2), 0x1042);
  CHECK(cr(PCI_REVISION_ID, 1) >= 1);
  CHECK(cr(PCI_SUBSYSTEM_ID, 2) >= 0x40);
  CHECK(cr(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
  vsim_pci_cfg_write(&D.p, PCI_BASE_ADDRESS_0, 4, 0xffffffffu);
  CHECK_EQ(cr(PCI_BASE_ADDRESS_0, 4), (uint32_t)~(VSIM_PCI_BAR_SIZE - 1));
  vsim_pci_cfg_write(&D.p, PCI_BASE_ADDRESS_0, 4, VSIM_PCI_BAR_ADDR);
  CHECK_EQ(cr(PCI_BASE_ADDRESS_0, 4), VSIM_PCI_BAR_ADDR);
  /* the chain: types in order, each inside the BAR */
  uint32_t types[8], n = 0;
  for (uint32_t at = cr(PCI_CAPABILITY_LIST, 1); at && n < 8; at = cr(at + 1, 1)) {
    CHECK_EQ(cr(at, 1), PCI_CAP_ID_VNDR);
    types[n++] = cr(at + 3, 1);
    CHECK_EQ(cr(at + 4, 1), 0);
    CHECK(cr(at + 8, 4) + cr(at + 12, 4) <= VSIM_PCI_BAR_SIZE);
    if (types[n - 1] == VIRTIO_PCI_CAP_NOTIFY_CFG) CHECK_EQ(cr(at + 16, 4), VSIM_PCI_NOTIFY_MULT);
  }
  CHECK_EQ(n, 5);
  CHECK_EQ(types[0], VIRTIO_PCI_CAP_COMMON_CFG);
  CHECK_EQ(types[1], VIRTIO_PCI_CAP_NOTIFY_CFG);
  CHECK_EQ(types[2], VIRTIO_PCI_CAP_ISR_CFG);
  CHECK_EQ(types[3], VIRTIO_PCI_CAP_DEVICE_CFG);
  CHECK_EQ(types[4], VIRTIO_PCI_CAP_PCI_CFG);
  /* the PCI_CFG window reads num_queues out of the BAR */
  uint32_t w = D.p.cap_pcicfg;
  vsim_pci_cfg_write(&D.p, w + 4, 1, 0);
  vsim_pci_cfg_write(&D.p, w + 12, 4, 2);
  vsim_pci_cfg_write(&D.p, w + 8, 4, C(VIRTIO_PCI_COMMON_NUMQ));
  CHECK_EQ(cr(w + 16, 2), 2);
  CHECK_EQ(D.r.nviol, 0);
  dut_close();
}

static void test_common_cfg_rules(void) {
  if (!dut_open(0, 2)) return;
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_NUMQ), 2), 2);
  bw(C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 1);
  uint32_t max = br(C(VIRTIO_PCI_COMMON_Q_SIZE), 2);
  CHECK(max >= 2);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_NOFF), 2), 1);
  CHECK_EQ(D.r.nviol, 0);
  /* widths */
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_NUMQ), 4), 0);
  CHECK_EQ(count(VSIM_CHK_PCI_ACCESS_WIDTH), 1);
  bw(C(VIRTIO_PCI_COMMON_Q_DESCLO), 4, 0x1000);
  bw(C(VIRTIO_PCI_COMMON_Q_DESCHI), 4, 0x2);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_DESCHI), 4), 2);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_DESCLO), 4), 0x1000);
  CHECK_EQ(count(VSIM_CHK_PCI_ACCESS_WIDTH), 1);
  /* read-only fields */
  bw(C(VIRTIO_PCI_COMMON_NUMQ), 2, 9);
  CHECK_EQ(count(VSIM_CHK_PCI_WRITE_RO), 1);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_NUMQ), 2), 2);
  /* queue_size: 0, above the maximum, not a power of 2: refused */
  bw(C(VIRTIO_PCI_COMMON_Q_SIZE), 2, 0);
  bw(C(VIRTIO_PCI_COMMON_Q_SIZE), 2, max * 2);
  bw(C(VIRTIO_PCI_COMMON_Q_SIZE), 2, 3);
  CHECK_EQ(count(VSIM_CHK_PCI_QUEUE_SIZE), 3);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_SIZE), 2), max);
  bw(C(VIRTIO_PCI_COMMON_Q_SIZE), 2, 2);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_SIZE), 2), 2);
  /* queue_enable 0: refused */
  bw(C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 0);
  CHECK_EQ(count(VSIM_CHK_PCI_QUEUE_ENABLE_ZERO), 1);
  dut_close();
}

/* A whole initialisation through the driver's ops, then notify and ISR. */
static void test_driver_walk(void) {
  if (!dut_open(0, 2)) return;
  vsim_drv_pci d;
  vsim_drv_pci_init(&d, &D.p, &D.host, VSIM_MUT_NONE);
  const vsim_drv_transport_ops *o = &vsim_drv_pci_ops;
  CHECK(o->probe(&d));
  CHECK_EQ(o->device_id(&d), 2);
  CHECK_EQ(d.bar_size, VSIM_PCI_BAR_SIZE);
  CHECK_EQ(d.num_queues, 2);
  CHECK_EQ(d.notify_mult, VSIM_PCI_NOTIFY_MULT);
  CHECK(d.device.found && d.isr.found);
  o->set_status(&d, 0);
  CHECK_EQ(o->get_status(&d), 0);
  o->set_status(&d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  uint64_t f = o->get_features(&d);
  CHECK(f & (UINT64_C(1) << VIRTIO_F_VERSION_1));
  o->set_features(&d, UINT64_C(1) << VIRTIO_F_VERSION_1);
  o->set_status(&d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
  CHECK(o->get_status(&d) & VIRTIO_CONFIG_S_FEATURES_OK);
  uint16_t max = o->queue_max(&d, 1);
  CHECK(max >= 8);
  vsim_queue_cfg qc = {8, 0x10000, 0x11000, 0x12000};
  CHECK_EQ(o->queue_enable(&d, 1, &qc), 0);
  CHECK_EQ(D.core.q[1].ready, 1);
  CHECK_EQ(D.core.q[1].desc, 0x10000);
  CHECK_EQ(d.notify_at[1], VSIM_PCI_NOTIFY_MULT);
  o->set_status(&d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
                        VIRTIO_CONFIG_S_DRIVER_OK);
  uint64_t before = D.core.notifies;
  o->notify(&d, 1, 1);
  CHECK_EQ(D.core.notifies, before + 1);
  uint8_t cap[8];
  CHECK_EQ(o->config_read(&d, 0, cap, 8), 0);
  /* ISR: read-to-clear */
  vsim_tcore_raise(&D.core, 1);
  CHECK_EQ(o->pending_interrupts(&d), 1);
  CHECK_EQ(o->take_interrupts(&d), 1);
  CHECK_EQ(o->pending_interrupts(&d), 0);
  CHECK_EQ(br(VSIM_PCI_ISR_OFF, 1), 0);
  /* a queue field while enabled, a misplaced notification: reported */
  bw(C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 1);
  bw(C(VIRTIO_PCI_COMMON_Q_DESCLO), 4, 0);
  CHECK_EQ(count(VSIM_CHK_PCI_QUEUE_LIVE), 1);
  CHECK_EQ(D.core.q[1].desc, 0x10000);
  bw(VSIM_PCI_NOTIFY_OFF + 2, 2, 1);
  CHECK_EQ(count(VSIM_CHK_PCI_NOTIFY), 1);
  CHECK_EQ(D.r.nviol, 2);
  dut_close();
}

static void test_walk_finds_bad_multiplier(void) {
  if (!dut_open(TMUT(DEV_PCI_NOTIFY_MULT), 2)) return;
  vsim_drv_pci d;
  vsim_drv_pci_init(&d, &D.p, &D.host, VSIM_MUT_NONE);
  CHECK(vsim_drv_pci_ops.probe(&d));
  CHECK_EQ(count(VSIM_CHK_PCI_DEV_NOTIFY_CAP), 1);
  CHECK_EQ(D.r.nviol, 1);
  dut_close();
}

int main(void) {
  RUN(test_config_space);
  RUN(test_common_cfg_rules);
  RUN(test_driver_walk);
  RUN(test_walk_finds_bad_multiplier);
  TEST_MAIN_END();
}
