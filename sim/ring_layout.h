/* sim/ring_layout.h — where the fields of a split ring's available and used
 * rings are, from the kernel's UAPI structs (never hand-written numbers).
 *
 * Owns: the byte offsets both sides of a split ring (and the scripted device)
 * compute guest addresses with.
 * Must never: define a layout the UAPI headers do not.
 */
#ifndef VSIM_RING_LAYOUT_H
#define VSIM_RING_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#define AVAIL_FLAGS_OFF ((uint64_t)offsetof(struct vring_avail, flags))
#define AVAIL_IDX_OFF ((uint64_t)offsetof(struct vring_avail, idx))
#define AVAIL_RING_OFF ((uint64_t)offsetof(struct vring_avail, ring))
#define USED_FLAGS_OFF ((uint64_t)offsetof(struct vring_used, flags))
#define USED_IDX_OFF ((uint64_t)offsetof(struct vring_used, idx))
#define USED_RING_OFF ((uint64_t)offsetof(struct vring_used, ring))

#endif
