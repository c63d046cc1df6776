/* backend-model/registry.c — built-in models and plugins (see registry.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "blk.h"
#include "console.h"
#include "input.h"
#include "net.h"
#include "gpu.h"
#include "virtiosim/mutants.h"
#include "registry.h"
#include "vhost_user.h"
#include "vu_script.h"

typedef struct builtin {
  const char *name;
  vsim_backend_create_fn create;
} builtin;

static const builtin builtins[] = {
    {"blk", vsim_blk_create},
    {"console", vsim_console_create},
    {"input", vsim_input_create},
    {"net", vsim_net_create},
    {"gpu", vsim_gpu_create},
};

static const char *const builtin_names[] = {"blk", "console", "input", "net", "gpu", NULL};

const char *const *vsim_backend_builtin_names(void) { return builtin_names; }

/* The ops a backend must fill, by name: the loader says which one is missing
 * rather than "something is missing". destroy, queue_reset and
 * queue_next_due may be NULL (see backend.h). */
#define VSIM_REQUIRED_OPS(X)                                                              \
  X(device_id) X(vendor_id) X(num_queues) X(queue_max_size) X(device_features)           \
  X(set_driver_features) X(get_status) X(set_status) X(config_generation) X(config_size) \
  X(config_read) X(config_write) X(queue_ready) X(queue_notify) X(queue_runnable)        \
  X(queue_run)

/* Append `name` to the comma-separated list in buf (truncation is harmless:
 * the message only gets shorter). */
static void list_add(char *buf, size_t cap, const char *name) {
  size_t n = strlen(buf);
  if (n + 1 < cap) snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", name);
}

/* Judge the table a backend handed back. `who` names it in messages ("plugin"
 * or "built-in model"). The ABI version is read first and alone: it is the
 * first field of every version of the table, and nothing after it can be
 * trusted to mean what this engine thinks when the versions differ. */
static int check_ops(const vsim_backend *b, const char *who, char *err, unsigned errlen) {
  const vsim_backend_ops *o = b->ops;
  if (!o) {
    snprintf(err, errlen, "%s returned success but no ops table (vsim_backend.ops is NULL)", who);
    return -1;
  }
  if (o->abi_version != VSIM_BACKEND_ABI_VERSION) {
    snprintf(err, errlen,
             "%s was built for backend ABI version %u, this virtio-sim expects ABI version %u "
             "(rebuild it against this version's <virtiosim/backend.h>)",
             who, o->abi_version, (unsigned)VSIM_BACKEND_ABI_VERSION);
    return -1;
  }
  char missing[256] = "";
#define VSIM_CHECK_OP(op) \
  if (!o->op) list_add(missing, sizeof missing, #op);
  VSIM_REQUIRED_OPS(VSIM_CHECK_OP)
#undef VSIM_CHECK_OP
  if (missing[0]) {
    snprintf(err, errlen, "%s's ops table \"%s\" lacks required op(s): %s", who,
             o->name ? o->name : "(unnamed)", missing);
    return -1;
  }
  return 0;
}

/* dlerror() names the file and the symbol; for the one mistake a plugin
 * author is likely to make with our API, say what to do about it. */
static void load_error(const char *path, char *err, unsigned errlen) {
  const char *why = dlerror();
  if (!why) why = "unknown dlopen error";
  const char *hint = "";
  if (strstr(why, "undefined symbol: vsim_"))
    hint = " (a plugin may call only the functions of <virtiosim/arena.h>; they resolve against "
           "the program that loads it, which must export them as the virtio-sim CLI does, and a "
           "plugin does not link libvirtiosim)";
  else if (!strchr(path, '/'))
    hint = " (a name without '/' is looked up in the library search path, not in the current "
           "directory: write plugin:./NAME.so)";
  snprintf(err, errlen, "cannot load plugin %s: %s%s", path, why, hint);
}

static int open_plugin(const char *path, const vsim_backend_params *params,
                       vsim_backend_handle *out, char *err, unsigned errlen) {
  /* RTLD_NOW: an unresolved symbol is an error here, with dlerror's message,
   * not a crash in the middle of a run. RTLD_LOCAL: two plugins never see
   * each other's symbols. */
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    load_error(path, err, errlen);
    return -1;
  }
  dlerror(); /* clear, so that a NULL from dlsym below is told apart from an error */
  vsim_backend_create_fn fn;
  *(void **)&fn = dlsym(dl, VSIM_PLUGIN_ENTRY);
  if (!fn) {
    snprintf(err, errlen, "plugin %s does not export the entry point %s() (declared in "
             "<virtiosim/backend.h>; is it static, or hidden by -fvisibility?)", path,
             VSIM_PLUGIN_ENTRY);
    dlclose(dl);
    return -1;
  }
  char why[384] = "";
  if (fn(params, &out->backend, why, sizeof why)) {
    snprintf(err, errlen, "plugin %s: %s() failed: %s", path, VSIM_PLUGIN_ENTRY,
             why[0] ? why : "(no message)");
    dlclose(dl);
    return -1;
  }
  char who[600];
  snprintf(who, sizeof who, "plugin %s", path);
  if (check_ops(&out->backend, who, err, errlen)) {
    /* With the right ABI the table's destroy can be trusted to free what
     * create made; with a wrong one nothing in it can, so that is leaked
     * rather than called. */
    const vsim_backend_ops *o = out->backend.ops;
    if (o && o->abi_version == VSIM_BACKEND_ABI_VERSION && o->destroy) o->destroy(out->backend.be);
    memset(&out->backend, 0, sizeof out->backend);
    dlclose(dl);
    return -1;
  }
  out->dl = dl;
  return 0;
}

int vsim_backend_open(const char *name, const vsim_backend_params *params,
                      vsim_backend_handle *out, char *err, unsigned errlen) {
  return vsim_backend_open_device(name, NULL, params, out, err, errlen);
}

int vsim_backend_open_device(const char *name, const char *device, const vsim_backend_params *params,
                             vsim_backend_handle *out, char *err, unsigned errlen) {
  memset(out, 0, sizeof *out);
  if (strncmp(name, "plugin:", 7) == 0) return open_plugin(name + 7, params, out, err, errlen);
  if (strncmp(name, VSIM_VU_SCRIPT_PREFIX, sizeof VSIM_VU_SCRIPT_PREFIX - 1) == 0) {
    if (vsim_vu_script_create(name, device, params, &out->backend, err, errlen)) return -1;
    return check_ops(&out->backend, "vhost-user adapter (scripted back-end)", err, errlen);
  }
  if (strncmp(name, "vhost-user", 10) == 0 && (name[10] == ':' || name[10] == 0)) {
    if (vsim_vhost_user_create(name, device, params, &out->backend, err, errlen)) return -1;
    return check_ops(&out->backend, "vhost-user adapter", err, errlen);
  }
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
    if (strcmp(builtins[i].name, name) == 0) {
      if (builtins[i].create(params, &out->backend, err, errlen)) return -1;
      out->builtin = true;
      return check_ops(&out->backend, "built-in model", err, errlen);
    }
  }
  snprintf(err, errlen, "unknown device '%s' (built-in: blk, console, input, net, gpu; or plugin:PATH.so)", name);
  return -1;
}

int vsim_backend_spec_parse(const char *spec, vsim_backend_spec *out, char *err, unsigned errlen) {
  memset(out, 0, sizeof *out);
  const char *body = spec;
  if (strncmp(spec, "builtin:", 8) == 0) {
    body = spec + 8;
  } else if (strncmp(spec, "plugin:", 7) == 0) {
    out->kind = VSIM_BACKEND_PLUGIN;
  } else if (strncmp(spec, VSIM_VU_SCRIPT_PREFIX, sizeof VSIM_VU_SCRIPT_PREFIX - 1) == 0) {
    /* a scripted back-end in this process (vu_script.h): guest RAM in a memfd too */
    out->kind = VSIM_BACKEND_VHOST_USER;
    if (!spec[sizeof VSIM_VU_SCRIPT_PREFIX - 1] || strlen(spec) >= sizeof out->open_name) {
      snprintf(err, errlen, "backend '%.60s': expected vhost-user-script:FILE.json", spec);
      return -1;
    }
    snprintf(out->open_name, sizeof out->open_name, "%s", spec);
    return 0;
  } else if (strncmp(spec, "vhost-user", 10) == 0 && (spec[10] == ':' || spec[10] == 0)) {
    /* the whole spec is the name: the socket or the daemon command in it */
    out->kind = VSIM_BACKEND_VHOST_USER;
    char sock[256];
    const char *cmd;
    if (vsim_vhost_user_spec(spec, sock, sizeof sock, &cmd, err, errlen)) return -1;
    if (strlen(spec) >= sizeof out->open_name) {
      snprintf(err, errlen, "backend '%.60s...': too long", spec);
      return -1;
    }
    snprintf(out->open_name, sizeof out->open_name, "%s", spec);
    return 0;
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
      snprintf(err, errlen, "backend '%s': no built-in model '%s' (built-in: blk, console, input, net, gpu)", spec, out->open_name);
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
    vsim_mut_add(&out->mutants, id);
    m += len + (end ? 1 : 0);
  }
  return 0;
}

void vsim_backend_close(vsim_backend_handle *h) {
  if (h->backend.ops && h->backend.ops->destroy) h->backend.ops->destroy(h->backend.be);
  if (h->dl) dlclose(h->dl);
  memset(h, 0, sizeof *h);
}
