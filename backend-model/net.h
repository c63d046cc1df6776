/* backend-model/net.h — the built-in virtio-net device model.
 *
 * Owns: the virtio_net_config bytes (mac, status, max_virtqueue_pairs, mtu,
 * speed, duplex), the queue layout (receiveq k at 2(k-1), transmitq k at
 * 2(k-1)+1, the control queue after the last pair), the transmit path (the
 * virtio_net_hdr judged, the checksum completed, the frame put on the
 * "wire": a bounded capture, of received frames too, that a scenario or a
 * pcap writer reads back), the
 * receive path (frames from the host, through the receive filters, into the
 * receive buffers the driver posted and the device holds) and the control
 * queue (RX mode, MAC table and address, VLAN table, ANNOUNCE_ACK, MQ pairs).
 * Features, status, queues and the worker loop belong to the device core.
 * Must never: trust a length, offset or count from the guest without an
 * overflow-safe bound, truncate a frame silently (it is dropped and
 * counted), put a frame on a receive queue of a pair the driver did not
 * enable, or report violations about itself (checkers judge it from outside).
 */
#ifndef VSIM_NET_H
#define VSIM_NET_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"
#include "chain.h"

/* The header this model uses: struct virtio_net_hdr_v1 (12 bytes; neither
 * HASH_REPORT nor the UDP-tunnel features are offered). */
#define VSIM_NET_HDR_LEN 12u
/* The largest frame either way: 65535 bytes of IPv6 payload, its 40-byte
 * header and a 14-byte Ethernet header (the spec's 65589). */
#define VSIM_NET_MAX_FRAME 65589u
/* The capture (transmitted and received frames): at most this many frames
 * and bytes, the first ones kept (a run that moves more counts the rest as
 * not captured). */
#define VSIM_NET_CAPTURE_FRAMES 256u
#define VSIM_NET_CAPTURE_BYTES (1u << 20)
/* Frames from the host waiting for receive buffers. */
#define VSIM_NET_RX_PENDING 32u
#define VSIM_NET_RX_POOL (256u * 1024u)
/* MAC filter table entries per list (unicast, multicast). */
#define VSIM_NET_MAC_TABLE 64u

/* One frame as it crossed the wire: transmitted (checksum completed), or
 * received (delivered to the driver whole). */
typedef struct vsim_net_frame {
  uint32_t off, len;   /* in the capture's byte store */
  uint16_t queue;      /* the transmit queue it came from (odd), or the receive queue it went to (even) */
  uint64_t when;       /* virtual time */
  uint8_t gso_type;    /* GSO frames go out whole, with their metadata (as a tap with vnet headers) */
  uint16_t gso_size;
} vsim_net_frame;

/* What the model counted (frames, not bytes). */
typedef struct vsim_net_stats {
  uint64_t tx_frames, tx_dropped, tx_not_captured;
  uint64_t rx_frames, rx_filtered, rx_too_big, rx_dropped;
  uint64_t ctrl_ok, ctrl_err;
} vsim_net_stats;

/* Create a virtio-net device. device_config keys (values are strings): mac
 * ("52:54:00:12:34:56"), max_virtqueue_pairs (1..64; default num_queues / 2,
 * at least 1), mtu (68..65535, default 1500), speed (Mbit/s), duplex (0 half,
 * 1 full, 255 unknown), link_up (default true), announce (default false:
 * with GUEST_ANNOUNCE the device asks for an announcement at DRIVER_OK).
 * The device has 2 * max_virtqueue_pairs + 1 queues (the last is the control
 * queue). On success out->ops is &vsim_devcore_ops; returns 0, or -1 with a
 * message in err. */
int vsim_net_create(const vsim_backend_params *params, vsim_backend *out, char *err, unsigned errlen);

/* For the engine, tests and reports: `model` is out->be of vsim_net_create. */
const vsim_net_stats *vsim_net_stats_of(const void *model);
uint32_t vsim_net_frames(const void *model);
const vsim_net_frame *vsim_net_frame_at(const void *model, uint32_t i, const uint8_t **bytes);

#endif
