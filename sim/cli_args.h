/* sim/cli_args.h — argument parsing shared by the CLI's commands.
 *
 * Owns: reading a number the way every command accepts it (decimal, or 0x
 * hex; no sign, nothing trailing), so "-1" never turns into 2^64 - 1.
 */
#ifndef VSIM_CLI_ARGS_H
#define VSIM_CLI_ARGS_H

#include <stdint.h>
#include <stdlib.h>

static inline int vsim_cli_parse_u64(const char *s, uint64_t *out) {
  char *end;
  if (!s || !*s || *s == '-') return -1;
  unsigned long long v = strtoull(s, &end, 0);
  if (*end) return -1;
  *out = v;
  return 0;
}

#endif
