/* backend-model/registry.h — from a backend name to a running backend.
 *
 * Owns: the table of built-in device models and the plugin loader
 * ("plugin:/path/to/lib.so", which must export vsim_plugin_create).
 * Must never: keep a plugin handle past the backend's lifetime.
 */
#ifndef VSIM_REGISTRY_H
#define VSIM_REGISTRY_H

#include <stdbool.h>
#include "virtiosim/backend.h"

typedef struct vsim_backend_handle {
  vsim_backend backend;
  void *dl;          /* dlopen handle for plugins, else NULL */
  bool builtin;      /* be is a vsim_devcore* (fault injection can reach it) */
} vsim_backend_handle;

int vsim_backend_open(const char *name, const vsim_backend_params *params,
                      vsim_backend_handle *out, char *err, unsigned errlen);
void vsim_backend_close(vsim_backend_handle *h);
/* Names of the built-in models, NULL-terminated. */
const char *const *vsim_backend_builtin_names(void);

#endif
