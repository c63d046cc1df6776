/* backend-model/net_deps.h — virtio-net's feature bit requirements.
 *
 * Owns: the spec's table "Feature bit requirements" (Network Device /
 * Feature bits) for the bits below 64, as one function both sides use: the
 * device model refuses FEATURES_OK for a set that breaks it, the driver model
 * drops a bit whose requirement it did not accept, and the driver-side check
 * judges what a driver accepted.
 * Must never: hold state, or name a bit the UAPI header does not define
 * (the USO / UDP-tunnel bits it lacks are defined in virtio_compat.h, if at all).
 */
#ifndef VSIM_NET_DEPS_H
#define VSIM_NET_DEPS_H

#include <stdint.h>

/* The bits of `features` whose requirement is not in `features` (0: the set
 * is consistent). */
uint64_t vsim_net_unmet_deps(uint64_t features);
/* The largest subset of `features` that meets every requirement: bits whose
 * requirement is missing are dropped, repeatedly (a dropped bit can be
 * another's requirement). */
uint64_t vsim_net_close_deps(uint64_t features);
/* The receive offloads VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET switches, as
 * feature bits (Offloads State Configuration: each has its GUEST_* feature;
 * those the UAPI header names). */
uint64_t vsim_net_rx_offloads(void);

#endif
