/* backend-model/vu_script.h — `--backend vhost-user-script:FILE.json`: the real
 * vhost-user front-end (backend-model/vhost_user.c) against a scripted
 * back-end (backend-model/vu_peer.h) that serves the replies FILE says, in
 * this process, on a socketpair. What `virtio-sim fuzz-repro fuzz_vhost_user`
 * writes next to the scenario, and a way to write a malformed back-end by
 * hand. The format: scenarios/README.md, "A scripted vhost-user back-end".
 *
 * Owns: reading the script (jansson; every field checked, an unknown one is
 * an error), the backend that wraps the adapter's ops table and hands the
 * peer control before each op that can make the front-end talk or look at
 * the rings (set_status, queue_ready, queue_notify, queue_run, config_write),
 * and the peer's judgement of the conversation for the fuzz oracle.
 * Must never: change what the adapter does (every op is the adapter's), or
 * outlive the peer's descriptors (destroy closes both ends).
 */
#ifndef VSIM_VU_SCRIPT_H
#define VSIM_VU_SCRIPT_H

#include <stddef.h>
#include "virtiosim/backend.h"
#include "vu_peer.h"

#define VSIM_VU_SCRIPT_PREFIX "vhost-user-script:"

/* Parse script text (JSON) into s (vu_script_init'ed by the call). `name`
 * names it in messages: "NAME: field 'actions[3].flags': ...". 0 or -1. */
int vsim_vu_script_parse(const char *text, size_t len, const char *name, vu_script *s, char *err,
                         size_t errlen);

/* "vhost-user-script:FILE": read and parse FILE, start the peer, create the
 * adapter on the other end with the script's bounds, fill out. 0, or -1
 * with a message (the adapter's handshake error included). */
int vsim_vu_script_create(const char *spec, const char *device, const vsim_backend_params *params,
                          vsim_backend *out, char *err, unsigned errlen);

/* The peer's judgement of the conversation so far (vu_peer_judge) when `be`
 * is a vhost-user-script backend: 0, else -1. */
int vsim_vu_script_verdict(const vsim_backend *be, vu_peer_verdict *out);

#endif
