/* backend-model/registry.c — built-in models and plugins (see registry.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "blk.h"
#include "virtiosim/mutants.h"
#include "registry.h"

typedef struct builtin {
  const char *name;
  vsim_backend_create_fn create;
} builtin;

static const builtin builtins[] = {
    {"blk", vsim_blk_create},
};

static const char *const builtin_names[] = {"blk", NULL};

const char *const *vsim_backend_builtin_names(void) { return builtin_names; }

static int check_ops(const vsim_backend *b, char *err, unsigned errlen) {
  const vsim_backend_ops *o = b->ops;
  if (!o || o->abi_version != VSIM_BACKEND_ABI_VERSION) {
    snprintf(err, errlen, "backend ABI version %u, expected %u", o ? o->abi_version : 0,
             VSIM_BACKEND_ABI_VERSION);
    return -1;
  }
  if (!o->device_id || !o->num_queues || !o->queue_max_size || !o->device_features ||
      !o->set_driver_features || !o->get_status || !o->set_status || !o->config_generation ||
      !o->config_size || !o->config_read || !o->config_write || !o->queue_ready ||
      !o->queue_notify || !o->queue_runnable || !o->queue_run || !o->vendor_id) {
    snprintf(err, errlen, "backend ops table is missing a required function");
    return -1;
  }
  return 0;
}

int vsim_backend_open(const char *name, const vsim_backend_params *params,
                      vsim_backend_handle *out, char *err, unsigned errlen) {
  memset(out, 0, sizeof *out);
  if (strncmp(name, "plugin:", 7) == 0) {
    void *dl = dlopen(name + 7, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
      snprintf(err, errlen, "cannot load plugin: %s", dlerror());
      return -1;
    }
    vsim_backend_create_fn fn;
    *(void **)&fn = dlsym(dl, VSIM_PLUGIN_ENTRY);
    if (!fn) {
      snprintf(err, errlen, "plugin %s does not export %s", name + 7, VSIM_PLUGIN_ENTRY);
      dlclose(dl);
      return -1;
    }
    if (fn(params, &out->backend, err, errlen) || check_ops(&out->backend, err, errlen)) {
      dlclose(dl);
      return -1;
    }
    out->dl = dl;
    return 0;
  }
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
    if (strcmp(builtins[i].name, name) == 0) {
      if (builtins[i].create(params, &out->backend, err, errlen)) return -1;
      out->builtin = true;
      return check_ops(&out->backend, err, errlen);
    }
  }
  snprintf(err, errlen, "unknown device '%s' (built-in: blk; or plugin:PATH.so)", name);
  return -1;
}

int vsim_backend_spec_parse(const char *spec, vsim_backend_spec *out, char *err, unsigned errlen) {
  memset(out, 0, sizeof *out);
  const char *body = spec;
  if (strncmp(spec, "builtin:", 8) == 0) {
    body = spec + 8;
  } else if (strncmp(spec, "plugin:", 7) == 0) {
    out->kind = VSIM_BACKEND_PLUGIN;
  } else if (strncmp(spec, "vhost-user:", 11) == 0) {
    snprintf(err, errlen, "backend '%s': vhost-user backends are not supported yet", spec);
    return -1;
  }
  const char *q = strchr(body, '?');
  size_t n = q ? (size_t)(q - body) : strlen(body);
  if (n == 0 || n >= sizeof out->open_name) {
    snprintf(err, errlen, "backend '%s': expected builtin:TYPE, plugin:PATH.so or vhost-user:SOCKET", spec);
    return -1;
  }
  memcpy(out->open_name, body, n);
  out->open_name[n] = 0;
  if (out->kind == VSIM_BACKEND_BUILTIN) {
    bool known = false;
    for (size_t i = 0; builtin_names[i]; i++) known |= strcmp(builtin_names[i], out->open_name) == 0;
    if (!known) {
      snprintf(err, errlen, "backend '%s': no built-in model '%s' (built-in: blk)", spec, out->open_name);
      return -1;
    }
  }
  if (!q) return 0;
  if (strncmp(q + 1, "mutant=", 7) != 0) {
    snprintf(err, errlen, "backend '%s': the only option is ?mutant=NAME[,NAME...]", spec);
    return -1;
  }
  const char *m = q + 8;
  while (*m) {
    const char *end = strchr(m, ',');
    size_t len = end ? (size_t)(end - m) : strlen(m);
    char name[64];
    int id = -1;
    if (len > 0 && len < sizeof name) {
      memcpy(name, m, len);
      name[len] = 0;
      id = vsim_mutant_lookup(name);
    }
    if (id < 0) {
      snprintf(err, errlen, "backend '%s': unknown mutant '%.*s' (see `virtio-sim mutants`)", spec,
               (int)len, m);
      return -1;
    }
    out->mutants |= UINT64_C(1) << id;
    m += len + (end ? 1 : 0);
  }
  return 0;
}

void vsim_backend_close(vsim_backend_handle *h) {
  if (h->backend.ops && h->backend.ops->destroy) h->backend.ops->destroy(h->backend.be);
  if (h->dl) dlclose(h->dl);
  memset(h, 0, sizeof *h);
}
