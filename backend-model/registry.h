/* backend-model/registry.h — from a backend name to a running backend.
 *
 * Owns: the table of built-in device models, the plugin loader
 * ("plugin:/path/to/lib.so", which must export vsim_plugin_create), and the
 * way to an out-of-process vhost-user back-end (backend-model/vhost_user.h).
 * Must never: keep a plugin handle past the backend's lifetime.
 */
#ifndef VSIM_REGISTRY_H
#define VSIM_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"

typedef struct vsim_backend_handle {
  vsim_backend backend;
  void *dl;          /* dlopen handle for plugins, else NULL */
  bool builtin;      /* be is a vsim_devcore* (fault injection can reach it) */
} vsim_backend_handle;

int vsim_backend_open(const char *name, const vsim_backend_params *params,
                      vsim_backend_handle *out, char *err, unsigned errlen);
/* The same, for a driver of device type `device` ("blk"): an out-of-process
 * back-end does not say which device it is, the driver side does. */
int vsim_backend_open_device(const char *name, const char *device, const vsim_backend_params *params,
                             vsim_backend_handle *out, char *err, unsigned errlen);
void vsim_backend_close(vsim_backend_handle *h);
/* A backend as the user names it (`--backend SPEC`):
 *   builtin:TYPE[?mutant=NAME[,NAME...]]  a built-in model, optionally broken on purpose
 *   TYPE                                  same as builtin:TYPE
 *   plugin:PATH.so[?mutant=...]           a dlopen()ed plugin (mutants then reach only the driver model)
 *   vhost-user:SOCKET                     an out-of-process daemon listening on SOCKET
 *   vhost-user-script:FILE.json           the vhost-user front-end against a scripted back-end in
 *                                         this process (backend-model/vu_script.h; fuzz-repro writes one)
 *   vhost-user:?cmd=CMD                   a daemon virtio-sim starts (CMD contains {socket}; the
 *                                         CLI's `--backend vhost-user --backend-cmd CMD`)
 * `open_name` is what vsim_backend_open takes. */
enum vsim_backend_kind { VSIM_BACKEND_BUILTIN = 0, VSIM_BACKEND_PLUGIN, VSIM_BACKEND_VHOST_USER };
typedef struct vsim_backend_spec {
  enum vsim_backend_kind kind;
  char open_name[2048];
  vsim_mutset mutants; /* the mutants to plant (vsim_mut_has) */
} vsim_backend_spec;
int vsim_backend_spec_parse(const char *spec, vsim_backend_spec *out, char *err, unsigned errlen);

/* Names of the built-in models, NULL-terminated. */
const char *const *vsim_backend_builtin_names(void);

#endif
