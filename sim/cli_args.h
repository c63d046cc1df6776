/* sim/cli_args.h — argument parsing shared by the CLI's commands.
 *
 * Owns: reading a number the way every command accepts it (decimal, or 0x
 * hex; no sign, nothing trailing), so "-1" never turns into 2^64 - 1; and
 * folding `--backend vhost-user --backend-cmd CMD` into the one backend spec
 * the engine takes ("vhost-user:?cmd=CMD", backend-model/registry.h), so
 * that a reproduce command carries the daemon command along.
 */
#ifndef VSIM_CLI_ARGS_H
#define VSIM_CLI_ARGS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int vsim_cli_parse_u64(const char *s, uint64_t *out) {
  char *end;
  if (!s || !*s || *s == '-') return -1;
  unsigned long long v = strtoull(s, &end, 0);
  if (*end) return -1;
  *out = v;
  return 0;
}

/* 0 with the spec in out (or backend unchanged when cmd is NULL), -1 with a
 * message on stderr. */
static inline int vsim_cli_backend_cmd(const char *backend, const char *cmd, char *out, size_t outlen,
                                       const char **spec) {
  if (!cmd) return 0;
  if (!backend || (strcmp(backend, "vhost-user") != 0 && strcmp(backend, "vhost-user:") != 0)) {
    fprintf(stderr, "virtio-sim: --backend-cmd goes with --backend vhost-user (the daemon it starts "
                    "listens on {socket})\n");
    return -1;
  }
  if ((size_t)snprintf(out, outlen, "vhost-user:?cmd=%s", cmd) >= outlen) {
    fprintf(stderr, "virtio-sim: --backend-cmd is too long\n");
    return -1;
  }
  *spec = out;
  return 0;
}

#endif
