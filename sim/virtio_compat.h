/* sim/virtio_compat.h — UAPI constants newer than Debian bookworm's linux-libc-dev.
 *
 * Owns: the few VirtIO 1.2+ constants <linux/virtio_*.h> 6.1 does not define
 * yet, each under #ifndef so that a newer header wins. Everything the UAPI
 * headers do define is taken from them, never redefined.
 */
#ifndef VSIM_VIRTIO_COMPAT_H
#define VSIM_VIRTIO_COMPAT_H

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#ifndef VIRTIO_F_NOTIFICATION_DATA
#define VIRTIO_F_NOTIFICATION_DATA 38
#endif
#ifndef VIRTIO_BLK_F_LIFETIME
#define VIRTIO_BLK_F_LIFETIME 15
#endif
#ifndef VIRTIO_BLK_F_ZONED
#define VIRTIO_BLK_F_ZONED 17
#endif
/* the ISR byte's queue-interrupt bit (the spec's table; the UAPI header names only the config bit) */
#ifndef VIRTIO_PCI_ISR_QUEUE
#define VIRTIO_PCI_ISR_QUEUE 0x1
#endif
#ifndef VIRTIO_MMIO_QUEUE_RESET
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0
#endif

/* virtio-gpu blob alignment (virtio 1.3): the feature bit, and the config
 * field <linux/virtio_gpu.h> 6.1's struct virtio_gpu_config stops before
 * (le32 blob_alignment after num_capsets) */
#ifndef VIRTIO_GPU_F_BLOB_ALIGNMENT
#define VIRTIO_GPU_F_BLOB_ALIGNMENT 5
#endif
#define VSIM_GPU_CFG_BLOB_ALIGNMENT 16u
#endif
