/* backend-model/vhost_user.h — an out-of-process vhost-user back-end behind
 * the device-side ops table (`--backend vhost-user:SOCKET`, or
 * `vhost-user:?cmd=CMD` to start the daemon ourselves: backend-model/daemon.h).
 *
 * Owns: the front-end side of the vhost-user protocol for one device: the
 * handshake (features, protocol features, queue count, memory slots, owner,
 * config space), mapping the transport's view onto messages (FEATURES_OK ->
 * SET_FEATURES, DRIVER_OK -> SET_MEM_TABLE and per ring NUM, BASE, ADDR,
 * CALL, ERR, KICK, ENABLE; QueueNotify -> the kick eventfd; reset ->
 * GET_VRING_BASE and RESET_DEVICE / RESET_OWNER), and the device worker:
 * waiting (bounded, in wall-clock time) for the back-end to use what the
 * driver made available, then reporting what the used ring shows (USED
 * events from snapshots) and the call eventfd as the used-buffer
 * notification. Every reply is judged (vhost_user_proto.h); what is wrong is
 * a violation of a vhost-user.* check.
 * Must never: block without a deadline, touch guest memory outside the
 * rings it reads (the back-end's own accesses are its business: only
 * snapshots are observed), or keep talking to a back-end whose replies went
 * wrong (QEMU closes the connection there; we stop using it).
 */
#ifndef VSIM_VHOST_USER_H
#define VSIM_VHOST_USER_H

#include <stddef.h>
#include "virtiosim/backend.h"

/* Wall-clock bounds (milliseconds). */
#define VSIM_VU_REPLY_MS 5000   /* one reply */
#define VSIM_VU_WAIT_MS 2000    /* the back-end using what it was given, per worker call */
#define VSIM_VU_START_MS 10000  /* a daemon we start, until its socket accepts */

/* "vhost-user:SOCKET", "vhost-user:?cmd=CMD" (CMD: the rest of the string).
 * Fills socket (possibly "") and *cmd (NULL when none). 0, or -1 with err. */
int vsim_vhost_user_spec(const char *spec, char *socket, size_t socket_len, const char **cmd,
                         char *err, size_t errlen);

/* Connect (starting the daemon first when the spec has a command), run the
 * handshake, and fill `out`. `device` is the device type the driver drives
 * ("blk"): vhost-user does not say which device a back-end is. The arena
 * (params->host->arena) must come from vsim_arena_new_memfd. 0, or -1 with
 * a message in err (nothing left running). */
int vsim_vhost_user_create(const char *spec, const char *device, const vsim_backend_params *params,
                           vsim_backend *out, char *err, unsigned errlen);

/* The same over a socket already connected to a back-end (taken over: closed
 * with the backend, or on failure), with other bounds (0: the default).
 * Tests use it with a scripted peer. */
typedef struct vsim_vu_timeouts {
  int reply_ms, wait_ms;
} vsim_vu_timeouts;
int vsim_vhost_user_create_on(int sock, const char *device, const vsim_backend_params *params,
                              const vsim_vu_timeouts *t, vsim_backend *out, char *err,
                              unsigned errlen);

#endif
