/* backend-model/blk.h — the built-in virtio-blk device model.
 *
 * Owns: a RAM disk (optionally loaded from a raw image file), the
 * virtio_blk_config bytes, and the execution of block requests (IN, OUT, FLUSH,
 * GET_ID, DISCARD, WRITE_ZEROES). Features, status, queues and the worker loop
 * belong to the device core (devcore.h); this model only answers per chain.
 * Must never: write an image file back (writes stay in RAM), trust a length or
 * sector from the guest without overflow-safe checks, or report violations
 * about itself (checkers judge the device from the outside).
 */
#ifndef VSIM_BLK_H
#define VSIM_BLK_H

#include <stdint.h>
#include "virtiosim/backend.h"
#include "chain.h"

/* Largest disk the model will hold in RAM (1 GiB): bounds memory up front. */
#define VSIM_BLK_MAX_BYTES (UINT64_C(1) << 30)
/* Largest max_discard_seg / max_write_zeroes_seg accepted from device_config:
 * the segment buffer is sized from it once, at create time. */
#define VSIM_BLK_MAX_DWZ_SEG 4096u

/* Create a virtio-blk device. device_config keys (all values are strings):
 * capacity, ro, blk_size, seg_max, size_max, serial, image,
 * max_discard_sectors, max_discard_seg, max_write_zeroes_sectors,
 * max_write_zeroes_seg, write_zeroes_may_unmap, zero_copy (default true:
 * data moves in place through arena spans; false: through a bounce buffer).
 * On success out->ops is &vsim_devcore_ops and out->be the model's device
 * core; returns 0. On error returns -1 with a message in err. */
int vsim_blk_create(const vsim_backend_params *params, vsim_backend *out, char *err,
                    unsigned errlen);

/* For unit tests: the model's request handler (its devmodel ops->request) and
 * its disk contents. `model` is out->be as returned by vsim_blk_create. */
int vsim_blk_model_request(void *model, uint16_t q, const vsim_chain *chain,
                           uint32_t *used_len);
const uint8_t *vsim_blk_disk(void *model, uint64_t *bytes);

#endif
