/* backend-model/be_log.c — the record format's names and line building
 * (see be_log.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "be_log.h"

static const char *const op_names[VSIM_BE__COUNT] = {
    [VSIM_BE_CREATE] = "create",
    [VSIM_BE_DEVICE_ID] = "device_id",
    [VSIM_BE_VENDOR_ID] = "vendor_id",
    [VSIM_BE_NUM_QUEUES] = "num_queues",
    [VSIM_BE_QUEUE_MAX] = "queue_max_size",
    [VSIM_BE_DEVICE_FEATURES] = "device_features",
    [VSIM_BE_SET_DRIVER_FEATURES] = "set_driver_features",
    [VSIM_BE_GET_STATUS] = "get_status",
    [VSIM_BE_SET_STATUS] = "set_status",
    [VSIM_BE_CONFIG_GENERATION] = "config_generation",
    [VSIM_BE_CONFIG_SIZE] = "config_size",
    [VSIM_BE_CONFIG_READ] = "config_read",
    [VSIM_BE_CONFIG_WRITE] = "config_write",
    [VSIM_BE_QUEUE_READY] = "queue_ready",
    [VSIM_BE_QUEUE_RESET] = "queue_reset",
    [VSIM_BE_QUEUE_NOTIFY] = "queue_notify",
    [VSIM_BE_QUEUE_RUNNABLE] = "queue_runnable",
    [VSIM_BE_QUEUE_RUN] = "queue_run",
    [VSIM_BE_QUEUE_NEXT_DUE] = "queue_next_due",
    [VSIM_BE_RECEIVE_QUEUES] = "receive_queues",
};

const char *vsim_be_op_name(int op) { return op >= 0 && op < VSIM_BE__COUNT ? op_names[op] : NULL; }

int vsim_be_op_parse(const char *name) {
  for (int i = 0; i < VSIM_BE__COUNT; i++)
    if (strcmp(op_names[i], name) == 0) return i;
  return -1;
}

void vsim_be_line_reset(vsim_be_line *l) {
  l->n = 0;
  l->oom = 0;
  if (l->s) l->s[0] = 0;
}

void vsim_be_line_free(vsim_be_line *l) {
  free(l->s);
  memset(l, 0, sizeof *l);
}

static int grow(vsim_be_line *l, size_t more) {
  if (l->oom) return -1;
  if (l->n + more + 1 <= l->cap) return 0;
  size_t cap = l->cap ? l->cap : 256;
  while (cap < l->n + more + 1) cap *= 2;
  char *s = realloc(l->s, cap);
  if (!s) {
    l->oom = 1;
    return -1;
  }
  l->s = s;
  l->cap = cap;
  return 0;
}

void vsim_be_line_addf(vsim_be_line *l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || grow(l, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(l->s + l->n, (size_t)n + 1, fmt, ap);
  va_end(ap);
  l->n += (size_t)n;
}

void vsim_be_line_u64(vsim_be_line *l, uint64_t v) {
  if (v <= (uint64_t)INT64_MAX) vsim_be_line_addf(l, "%" PRIu64, v);
  else vsim_be_line_addf(l, "\"0x%" PRIx64 "\"", v);
}

void vsim_be_line_hex(vsim_be_line *l, const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  if (grow(l, 2 * n + 2)) return;
  l->s[l->n++] = '"';
  for (size_t i = 0; i < n; i++) {
    l->s[l->n++] = digits[p[i] >> 4];
    l->s[l->n++] = digits[p[i] & 15];
  }
  l->s[l->n++] = '"';
  l->s[l->n] = 0;
}

void vsim_be_line_str(vsim_be_line *l, const char *text) {
  vsim_be_line_addf(l, "\"");
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '"' || *p == '\\') vsim_be_line_addf(l, "\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f) vsim_be_line_addf(l, "\\u%04x", *p);
    else vsim_be_line_addf(l, "%c", *p);
  }
  vsim_be_line_addf(l, "\"");
}

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int vsim_be_hex_decode(const char *hex, uint8_t *out, size_t n) {
  if (strlen(hex) != 2 * n) return -1;
  for (size_t i = 0; i < n; i++) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}
