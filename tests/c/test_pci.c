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
 * notify-multiplier mutant found by the walk; MSI-X (capability, vectors,
 * routing, masking, the ISR byte unused, reset unmapping), the reset of the
 * selectors and feature windows, the silent writes past the last queue and
 * to queue_reset without RING_RESET, and the layout mutants the walk finds.
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
#include "virtio_compat.h"
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

/* The function over a blk backend of nq queues, with an MSI-X table of
 * `msix` entries (0: none) and the mutants m. */
static bool dut_open_set(vsim_mutset m, uint16_t nq, unsigned msix) {
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
  CHECK_EQ(vsim_tcore_init(&D.core, D.be.backend, &D.host, m), 0);
  CHECK_EQ(vsim_pci_init(&D.p, &D.core, &m, msix), 0);
  D.ok = true;
  return true;
}

static bool dut_open(uint64_t mutants, uint16_t nq) { return dut_open_set(test_mutset(mutants), nq, 0); }

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
  vsim_drv_pci_init(&d, &D.p, &D.host, NULL);
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
  if (!dut_open_set(VSIM_MUTBIT(DEV_PCI_NOTIFY_MULT), 2, 0)) return;
  vsim_drv_pci d;
  vsim_drv_pci_init(&d, &D.p, &D.host, NULL);
  CHECK(vsim_drv_pci_ops.probe(&d));
  CHECK_EQ(count(VSIM_CHK_PCI_DEV_NOTIFY_CAP), 1);
  CHECK_EQ(D.r.nviol, 1);
  dut_close();
}

/* MSI-X on the device side: the capability, vector read-back (a vector past
 * the table reads NO_VECTOR and is the driver's violation), a write not read
 * back, routing (INTx while disabled, the event's vector once enabled, none
 * for NO_VECTOR, held while masked), the ISR byte unused, a reset unmapping. */
static void test_msix_device(void) {
  if (!dut_open_set(VSIM_MUT_NONE, 2, 3)) return;
  uint32_t at = D.p.cap_msix;
  CHECK(at != 0);
  CHECK_EQ(cr(at, 1), PCI_CAP_ID_MSIX);
  CHECK_EQ(cr(at + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE, 2); /* N - 1 */
  CHECK_EQ(cr(at + PCI_MSIX_TABLE, 4), VSIM_PCI_MSIX_TABLE_OFF);
  /* disabled: INTx and the ISR byte */
  CHECK_EQ(vsim_pci_route(&D.p, 0), VSIM_PCI_INTX);
  vsim_pci_interrupt(&D.p, 0, VIRTIO_PCI_ISR_QUEUE);
  CHECK_EQ(vsim_tcore_peek_isr(&D.core), VIRTIO_PCI_ISR_QUEUE);
  CHECK_EQ(br(VSIM_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_QUEUE);
  CHECK_EQ(br(VSIM_PCI_ISR_OFF, 1), 0); /* read-to-clear */
  /* mappings, each read back */
  bw(C(VIRTIO_PCI_COMMON_MSIX), 2, 0);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_MSIX), 2), 0);
  bw(C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 1);
  bw(C(VIRTIO_PCI_COMMON_Q_MSIX), 2, 2);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_MSIX), 2), 2);
  CHECK_EQ(D.r.nviol, 0);
  /* past the table: refused, reads NO_VECTOR */
  bw(C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
  bw(C(VIRTIO_PCI_COMMON_Q_MSIX), 2, 3);
  CHECK_EQ(count(VSIM_CHK_PCI_DRV_MSIX_RANGE), 1);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
  /* written (NO_VECTOR: unmapped) and not read back before the next write */
  bw(C(VIRTIO_PCI_COMMON_Q_MSIX), 2, VIRTIO_MSI_NO_VECTOR);
  bw(C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 1);
  CHECK_EQ(count(VSIM_CHK_PCI_DRV_MSIX_VERIFY), 1);
  /* enabled (entries masked at reset: the message waits in the pending bits) */
  vsim_pci_cfg_write(&D.p, at + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
  CHECK(vsim_pci_msix_enabled(&D.p));
  CHECK_EQ(vsim_pci_route(&D.p, 1), 2);
  CHECK_EQ(vsim_pci_route(&D.p, -1), 0);
  vsim_pci_interrupt(&D.p, 1, VIRTIO_PCI_ISR_QUEUE);
  CHECK_EQ(vsim_pci_msix_peek(&D.p), 0);
  CHECK_EQ(br(VSIM_PCI_MSIX_PBA_OFF, 4), 1u << 2);
  bw(VSIM_PCI_MSIX_TABLE_OFF + 2 * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0); /* unmask */
  CHECK_EQ(vsim_pci_msix_take(&D.p), 1u << 2);
  CHECK_EQ(br(VSIM_PCI_MSIX_PBA_OFF, 4), 0);
  CHECK_EQ(vsim_tcore_peek_isr(&D.core), 0); /* the ISR byte is unused */
  /* queue 0 unmapped: no interrupt at all */
  CHECK_EQ(vsim_pci_route(&D.p, 0), VIRTIO_MSI_NO_VECTOR);
  vsim_pci_interrupt(&D.p, 0, VIRTIO_PCI_ISR_QUEUE);
  CHECK_EQ(vsim_pci_msix_peek(&D.p), 0);
  CHECK_EQ(vsim_tcore_peek_isr(&D.core), 0);
  /* the ISR byte read with MSI-X enabled: the driver's SHOULD */
  (void)br(VSIM_PCI_ISR_OFF, 1);
  CHECK_EQ(count(VSIM_CHK_PCI_DRV_ISR_MSIX), 1);
  /* a reset unmaps every event */
  bw(C(VIRTIO_PCI_COMMON_STATUS), 1, 0);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
  bw(C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 1);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
  dut_close();
}

/* The open questions, decided: a reset clears the feature selectors and
 * every feature window; window 2 changed after FEATURES_OK is a late change;
 * a queue field written past the last queue, and queue_reset without
 * VIRTIO_F_RING_RESET, are ignored without a report. */
static void test_reset_and_silent_writes(void) {
  if (!dut_open(0, 1)) return;
  bw(C(VIRTIO_PCI_COMMON_DFSELECT), 4, 1);
  bw(C(VIRTIO_PCI_COMMON_GFSELECT), 4, 2);
  bw(C(VIRTIO_PCI_COMMON_GF), 4, 5);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_GF), 4), 5);
  bw(C(VIRTIO_PCI_COMMON_STATUS), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  bw(C(VIRTIO_PCI_COMMON_GFSELECT), 4, 1);
  bw(C(VIRTIO_PCI_COMMON_GF), 4, 1u << (VIRTIO_F_VERSION_1 - 32));
  bw(C(VIRTIO_PCI_COMMON_STATUS), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
  CHECK(br(C(VIRTIO_PCI_COMMON_STATUS), 1) & VIRTIO_CONFIG_S_FEATURES_OK);
  bw(C(VIRTIO_PCI_COMMON_GFSELECT), 4, 2);
  bw(C(VIRTIO_PCI_COMMON_GF), 4, 6);
  CHECK_EQ(count(VSIM_CHK_FEAT_DRV_AFTER_OK), 1);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_GF), 4), 5);
  bw(C(VIRTIO_PCI_COMMON_STATUS), 1, 0);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_STATUS), 1), 0);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_DFSELECT), 4), 0);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_GFSELECT), 4), 0);
  bw(C(VIRTIO_PCI_COMMON_GFSELECT), 4, 2);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_GF), 4), 0);
  unsigned before = D.r.nviol;
  bw(C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 5);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_SIZE), 2), 0);
  bw(C(VIRTIO_PCI_COMMON_Q_SIZE), 2, 8);
  bw(C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
  bw(C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
  bw(C(VIRTIO_PCI_COMMON_Q_RESET), 2, 1);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_RESET), 2), 0);
  CHECK_EQ(D.r.nviol, before);
  dut_close();
}

/* The device mutants the driver's walk finds in the layout. */
static void test_walk_finds_layout_mutants(void) {
  static const struct {
    int mutant, check;
  } cases[] = {
      {VSIM_MUT_DEV_PCI_CAP_LEN_SHORT, VSIM_CHK_PCI_DEV_CAP_LAYOUT},
      {VSIM_MUT_DEV_PCI_DEVCFG_MISALIGNED, VSIM_CHK_PCI_DEV_DEVCFG_ALIGN},
      {VSIM_MUT_DEV_PCI_MSIX_ONE_VECTOR, VSIM_CHK_PCI_DEV_MSIX_TABLE},
      {VSIM_MUT_DEV_PCI_NO_CFG_CAP, VSIM_CHK_PCI_DEV_CFG_CAP},
  };
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (!dut_open_set(vsim_mut_one(cases[i].mutant), 1, 2)) return;
    vsim_drv_pci d;
    vsim_drv_pci_init(&d, &D.p, &D.host, NULL);
    CHECK(vsim_drv_pci_ops.probe(&d));
    CHECK_EQ(count(cases[i].check), 1);
    CHECK_EQ(D.r.nviol, 1);
    /* one vector: the driver stays on INTx */
    if (cases[i].mutant == VSIM_MUT_DEV_PCI_MSIX_ONE_VECTOR) CHECK(!vsim_pci_msix_enabled(&D.p));
    dut_close();
  }
  /* and the correct layout: MSI-X enabled by the walk, nothing reported */
  if (!dut_open_set(VSIM_MUT_NONE, 1, 2)) return;
  vsim_drv_pci d;
  vsim_drv_pci_init(&d, &D.p, &D.host, NULL);
  CHECK(vsim_drv_pci_ops.probe(&d));
  CHECK(vsim_pci_msix_enabled(&D.p));
  CHECK_EQ(D.r.nviol, 0);
  dut_close();
}

/* The PCI_CFG window: a well-formed window reaches the structures both
 * ways; a hostile one (bad length, misaligned, the MSI-X table, a gap,
 * another BAR, an offset near 2^32) is refused and reported, never served. */
static void test_cfg_window_rules(void) {
  if (!dut_open(0, 2)) return;
  uint32_t w = D.p.cap_pcicfg;
  CHECK(w != 0);
  struct {
    uint32_t bar, off, len;
    bool ok;
  } cases[] = {
      {0, C(VIRTIO_PCI_COMMON_NUMQ), 2, true},
      {0, VSIM_PCI_ISR_OFF, 1, true},
      {0, VSIM_PCI_DEVICE_OFF, 4, true},
      {0, C(VIRTIO_PCI_COMMON_NUMQ), 3, false},
      {0, C(VIRTIO_PCI_COMMON_NUMQ) + 1, 2, false},
      {0, VSIM_PCI_MSIX_TABLE_OFF, 4, false},
      {0, 0x300, 4, false},
      {1, C(VIRTIO_PCI_COMMON_NUMQ), 2, false},
      {0xff, 0, 4, false},
      {0, 0xfffffffcu, 4, false},
      {0, 0, 0, false},
  };
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    unsigned before = count(VSIM_CHK_PCI_DRV_CFG_WINDOW);
    vsim_pci_cfg_write(&D.p, w + VIRTIO_PCI_CAP_BAR, 1, cases[i].bar);
    vsim_pci_cfg_write(&D.p, w + VIRTIO_PCI_CAP_LENGTH, 4, cases[i].len);
    vsim_pci_cfg_write(&D.p, w + VIRTIO_PCI_CAP_OFFSET, 4, cases[i].off);
    vsim_pci_cfg_write(&D.p, w + 16, 4, 0xa5a5a5a5u); /* the refused ones leave it */
    uint32_t v = cr(w + 16, 4);
    CHECK_EQ(count(VSIM_CHK_PCI_DRV_CFG_WINDOW), before + (cases[i].ok ? 0 : 2));
    if (!cases[i].ok) CHECK_EQ(v, 0xa5a5a5a5u);
  }
  /* a read of num_queues through the window presents the register's bytes */
  vsim_pci_cfg_write(&D.p, w + VIRTIO_PCI_CAP_BAR, 1, 0);
  vsim_pci_cfg_write(&D.p, w + VIRTIO_PCI_CAP_LENGTH, 4, 2);
  vsim_pci_cfg_write(&D.p, w + VIRTIO_PCI_CAP_OFFSET, 4, C(VIRTIO_PCI_COMMON_NUMQ));
  CHECK_EQ(cr(w + 16, 2), 2);
  /* queue_select written through it, read back directly */
  vsim_pci_cfg_write(&D.p, w + VIRTIO_PCI_CAP_OFFSET, 4, C(VIRTIO_PCI_COMMON_Q_SELECT));
  vsim_pci_cfg_write(&D.p, w + 16, 2, 1);
  CHECK_EQ(br(C(VIRTIO_PCI_COMMON_Q_SELECT), 2), 1);
  /* configuration accesses past the 256 bytes or misaligned: refused, read 0 */
  CHECK_EQ(cr(0x100, 4), 0);
  CHECK_EQ(cr(w + 17, 2), 0);
  dut_close();
}

int main(void) {
  RUN(test_config_space);
  RUN(test_common_cfg_rules);
  RUN(test_driver_walk);
  RUN(test_walk_finds_bad_multiplier);
  RUN(test_msix_device);
  RUN(test_reset_and_silent_writes);
  RUN(test_walk_finds_layout_mutants);
  RUN(test_cfg_window_rules);
  TEST_MAIN_END();
}
