/* frontend-model/net_drv.h — the virtio-net driver model: what is net-specific.
 *
 * Owns: the net feature bits the driver understands and their requirements
 * (a bit whose requirement is not accepted is dropped, net_deps.h), the probe
 * after DRIVER_OK (max_virtqueue_pairs, mtu, judged), the queue layout as
 * the driver sees it (receiveq k at 2(k-1), transmitq k at 2(k-1)+1, the
 * control queue after the last pair), and judging net traffic both ways:
 * each request the scenario sends (req.raw: a transmit header and frame, a
 * receive buffer, a control command) against the driver's rules, and each
 * answer the device gives (a receive header, a control ack, the config
 * space a command must have changed) against the device's. The bytes are
 * the scenario's; the driver model's mutants change them on the way out, as
 * a buggy driver would.
 * Must never: read outside a request's own buffers, or trust a used length
 * beyond the writable bytes the driver gave.
 */
#ifndef VSIM_NET_DRV_H
#define VSIM_NET_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include "driver.h"

typedef struct vsim_net_drv {
  vsim_driver *drv;
  const vsim_host *sink;
  uint16_t max_pairs;    /* from config space with MQ negotiated, else 1 */
  uint16_t mtu;          /* from config space with MTU negotiated, else 0 */
  uint16_t drv_pairs;    /* pairs the driver asked for last (VQ_PAIRS_SET in the available ring) */
  uint16_t dev_pairs;    /* pairs the device acknowledged (VQ_PAIRS_SET used with VIRTIO_NET_OK) */
  uint16_t cont_left[VSIM_DRV_MAX_QUEUES]; /* MRG_RXBUF: buffers still to come of the packet in progress */
  /* The wire, when the engine sees one (the built-in model's capture), or
   * NULL: frame i in the order frames crossed it (false past the end), and
   * how many transmitted frames it missed (a full capture). Transmitted
   * frames are judged against it: the device forwards what it must, and
   * changes only what the header asks it to. */
  bool (*wire_frame)(void *ctx, uint32_t i, uint16_t *q, const uint8_t **bytes, uint32_t *len);
  uint64_t (*wire_missed)(void *ctx);
  void *wire_ctx;
  uint32_t wire_next[VSIM_DRV_MAX_QUEUES]; /* per transmit queue: the first frame not matched to a request yet */
  /* MRG_RXBUF, an IPv4 packet over several buffers: frame bytes still to
   * come by its header's length (judged: ipv4_left[q] valid) */
  uint32_t ipv4_left[VSIM_DRV_MAX_QUEUES];
  bool ipv4_judged[VSIM_DRV_MAX_QUEUES];
  bool split_seen[VSIM_DRV_MAX_QUEUES];    /* the packet in progress was seen published in part (reported once) */
  bool coal_tx_sent, coal_rx_sent;         /* a NOTF_COAL TX_SET / RX_SET was sent since the last initialisation */
  bool announce_seen, announce_acked;      /* read ANNOUNCE in status (GUEST_ANNOUNCE); sent ANNOUNCE_ACK since */
  uint64_t offloads;                       /* receive offloads on (negotiated, then GUEST_OFFLOADS_SET acknowledged) */
  /* the offloads of the GUEST_OFFLOADS_SET commands in flight (and how
   * many): the device may act on one before the driver sees its ack, so a
   * frame reaped meanwhile may carry either state */
  uint64_t offloads_sent;
  uint32_t offloads_sending;
  /* CTRL_VLAN: VLAN ids a VLAN_ADD named since the last initialisation,
   * marked when sent (the device may apply it before the ack comes back)
   * and never cleared by VLAN_DEL (a frame filtered before the DEL may
   * still be waiting for a buffer): a tagged frame of an id never added
   * is one the device should have dropped */
  uint64_t vlan_added[4096 / 64];
} vsim_net_drv;

/* The feature bits this driver understands, and the driver's own rule for
 * what it accepts of them (the requirements closed; the driver config's
 * `close_features`). */
uint64_t vsim_net_drv_understood(void);
uint64_t vsim_net_drv_close(uint64_t features);

void vsim_net_drv_init(vsim_net_drv *n, vsim_driver *drv, const vsim_host *sink);
/* After each initialisation (FEATURES_OK accepted or not): judge what the
 * driver accepted, and start over (one pair, nothing in progress). */
void vsim_net_drv_negotiated(vsim_net_drv *n);
/* After DRIVER_OK: read and judge the configuration space. */
void vsim_net_drv_probe(vsim_net_drv *n);

/* A req.raw request on queue q is about to go (req_drv's observer): `out`
 * are its out_len device-readable bytes, in_len its writable ones. The
 * driver's rules are judged here; a driver mutant may change the bytes or
 * shorten the lengths. */
void vsim_net_drv_submit(void *ctx, uint16_t q, uint8_t *out, uint32_t *out_len, uint32_t *in_len);
/* The device used it: `in` holds the in_len writable bytes, `used` of them
 * reported written (already bounded by in_len). */
void vsim_net_drv_complete(void *ctx, uint16_t q, const uint8_t *out, uint32_t out_len, const uint8_t *in,
                           uint32_t in_len, uint32_t used);
/* The end of the run: what the driver still owed (an ANNOUNCE_ACK for an
 * ANNOUNCE it read) is its violation. */
void vsim_net_drv_finish(vsim_net_drv *n);
/* An event of the device (the engine's host callback, backend.h's
 * VSIM_EV_*): a held interrupt (VSIM_EV_IRQ_HOLD) of queue q is judged
 * against the coalescing parameters a reset left (0 until the driver sets
 * them). Other kinds are ignored. */
void vsim_net_drv_device_event(vsim_net_drv *n, int kind, int q);

#endif
