/* sim/fuzz_text.h — the byte reader and the growing string the fuzz input
 * decoders share (sim/fuzz_decode.c, sim/fuzz_vu.c); internal to them.
 *
 * Owns: reading an input front to back (total: past the end every byte reads
 * as 0, so any prefix of an input is an input), FNV-1a of the input (named in
 * the scenarios), and appending formatted text to a buffer that grows.
 * Must never: abort on out-of-memory (the buffer remembers it: sb_take then
 * gives NULL).
 */
#ifndef VSIM_FUZZ_TEXT_H
#define VSIM_FUZZ_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the byte reader ------------------------------------------------------ */

typedef struct rd {
  const uint8_t *p;
  size_t n, i;
} rd;

/* Past the end every byte reads as 0: any prefix of an input is an input. */
static inline uint8_t rd8(rd *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static inline uint16_t rd16(rd *r) {
  uint16_t lo = rd8(r);
  return (uint16_t)(lo | ((uint16_t)rd8(r) << 8));
}
static inline uint32_t rd32(rd *r) {
  uint32_t lo = rd16(r);
  return lo | ((uint32_t)rd16(r) << 16);
}
static inline uint64_t rd64(rd *r) {
  uint64_t lo = rd32(r);
  return lo | ((uint64_t)rd32(r) << 32);
}
static inline bool rd_more(const rd *r) { return r->i < r->n; }

static inline uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * UINT64_C(1099511628211);
  return h;
}

/* ---- a growing string ----------------------------------------------------- */

typedef struct sb {
  char *p;
  size_t n, cap;
  bool oom;
} sb;

__attribute__((format(printf, 2, 3), unused)) static inline void sb_printf(sb *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    size_t room = b->cap - b->n;
    va_list ap;
    va_start(ap, fmt);
    int k = room ? vsnprintf(b->p + b->n, room, fmt, ap) : -1;
    va_end(ap);
    if (room && k >= 0 && (size_t)k < room) {
      b->n += (size_t)k;
      return;
    }
    if (room && k < 0) { /* an encoding error: cannot happen with our formats */
      b->oom = true;
      return;
    }
    size_t want = b->cap ? 2 * b->cap : 4096;
    while (k > 0 && want < b->n + (size_t)k + 1) want *= 2;
    char *q = realloc(b->p, want);
    if (!q) {
      b->oom = true;
      return;
    }
    b->p = q;
    b->cap = want;
  }
}

static inline void sb_hex(sb *b, const uint8_t *p, size_t n) {
  sb_printf(b, "\"");
  for (size_t i = 0; i < n; i++) sb_printf(b, "%02x", p[i]);
  sb_printf(b, "\"");
}

static inline char *sb_take(sb *b, size_t *len) {
  if (b->oom || !b->p) {
    free(b->p);
    return NULL;
  }
  if (len) *len = b->n;
  return b->p;
}

#endif
