/* tests/c/test_trace.c — the event stream (sim/trace.c).
 *
 * Covers: the hash is the same for two identical streams, does not depend on
 * whether a JSON Lines file is open, and changes when any field of an event
 * (step, actor, kind, q, a, b, c, d) changes, when two events swap places, or
 * when an event is added; the event count; the JSON Lines writer (a temp file
 * from mkstemp under /tmp, unlinked afterwards): exactly one line per event,
 * with the actor and kind names and every field (each line parsed back with
 * jansson), notes written verbatim, and
 * nothing written once the file is closed or when none was opened; a failing
 * open; the kind-name table.
 * Must never: leave files behind.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "testutil.h"
#include "trace.h"
#include "virtiosim/backend.h"

static const vsim_event base_stream[] = {
    {1, 0, VSIM_EV_STEP_BEGIN, -1, 0, 5, 0, 0},
    {1, 0, VSIM_EV_KICK, 0, 0, 0, 0, 0},
    {2, 1, VSIM_EV_POP, 0, 3, 2, 16, 513},
    {2, 1, VSIM_EV_USED, 0, 3, 513, 0, 0},
    {3, -1, VSIM_EV_STALL, 1, 1, 0, 0, 0},
    {4, 2, VSIM_EV_IRQ, 1, 1, UINT64_MAX, 0, UINT64_C(1) << 63},
};
#define NBASE (sizeof base_stream / sizeof base_stream[0])

static uint64_t hash_of(const vsim_event *evs, size_t n) {
  vsim_trace t;
  vsim_trace_init(&t);
  for (size_t i = 0; i < n; i++) vsim_trace_emit(&t, &evs[i]);
  CHECK_EQ(t.count, n);
  return t.hash;
}

static void test_hash_stable(void) {
  uint64_t h1 = hash_of(base_stream, NBASE);
  uint64_t h2 = hash_of(base_stream, NBASE);
  CHECK(h1 == h2);
  vsim_trace t;
  vsim_trace_init(&t);
  uint64_t h0 = t.hash;
  CHECK(h0 != 0);
  CHECK_EQ(t.count, 0);
  CHECK(t.out == NULL);
  CHECK(h1 != h0);
  /* a prefix differs from the whole stream, and from other prefixes */
  uint64_t prev = h0;
  for (size_t n = 1; n <= NBASE; n++) {
    uint64_t h = hash_of(base_stream, n);
    CHECK(h != prev);
    prev = h;
  }
}

/* Change one field of one event: the hash must change, and every single
 * change must give a different hash from every other. */
static void test_hash_fields(void) {
  uint64_t base = hash_of(base_stream, NBASE);
  enum { NVAR = 8 * 3 * (int)NBASE };
  static uint64_t seen[NVAR];
  int nseen = 0;
  for (size_t e = 0; e < NBASE; e++) {
    for (int field = 0; field < 8; field++) {
      const uint64_t deltas[3] = {1, UINT64_C(1) << 31, UINT64_C(0x100000000)};
      for (int k = 0; k < 3; k++) {
        vsim_event evs[NBASE];
        memcpy(evs, base_stream, sizeof evs);
        vsim_event *ev = &evs[e];
        uint64_t dlt = deltas[k];
        /* the 32-bit fields take the low 32 bits of the delta, so a
         * 2^32 delta would be no change: use 2 instead */
        int32_t d32 = (int32_t)(uint32_t)(dlt == UINT64_C(0x100000000) ? 2 : dlt);
        switch (field) {
          case 0: ev->step += dlt; break;
          case 1: ev->actor = (int32_t)((uint32_t)ev->actor + (uint32_t)d32); break;
          case 2: ev->kind = (int32_t)((uint32_t)ev->kind + (uint32_t)d32); break;
          case 3: ev->q = (int32_t)((uint32_t)ev->q + (uint32_t)d32); break;
          case 4: ev->a += dlt; break;
          case 5: ev->b += dlt; break;
          case 6: ev->c += dlt; break;
          default: ev->d += dlt; break;
        }
        uint64_t h = hash_of(evs, NBASE);
        if (h == base)
          fprintf(stderr, "  event %zu field %d delta %d: hash unchanged\n", e, field, k);
        CHECK(h != base);
        for (int i = 0; i < nseen; i++) CHECK(seen[i] != h);
        seen[nseen++] = h;
      }
    }
  }
  CHECK_EQ(nseen, NVAR);

  /* fields are not interchangeable: moving a value between fields changes it */
  vsim_event x = {1, 0, VSIM_EV_USED, 0, 7, 0, 0, 0};
  vsim_event y = {1, 0, VSIM_EV_USED, 0, 0, 7, 0, 0};
  vsim_event z = {1, 0, VSIM_EV_USED, 7, 0, 0, 0, 0};
  uint64_t hx = hash_of(&x, 1), hy = hash_of(&y, 1), hz = hash_of(&z, 1);
  CHECK(hx != hy && hy != hz && hx != hz);
  /* actor and kind swapped */
  vsim_event p = {1, 3, 5, 0, 0, 0, 0, 0};
  vsim_event q = {1, 5, 3, 0, 0, 0, 0, 0};
  CHECK(hash_of(&p, 1) != hash_of(&q, 1));
  /* actor -1 and q -1 vs large positive values with the same low bits */
  vsim_event m1 = {1, -1, VSIM_EV_FAULT, -1, 0, 0, 0, 0};
  vsim_event m2 = {1, 0, VSIM_EV_FAULT, -1, 0, 0, 0, 0};
  CHECK(hash_of(&m1, 1) != hash_of(&m2, 1));
}

static void test_hash_order(void) {
  uint64_t base = hash_of(base_stream, NBASE);
  for (size_t i = 0; i + 1 < NBASE; i++) {
    vsim_event evs[NBASE];
    memcpy(evs, base_stream, sizeof evs);
    vsim_event tmp = evs[i];
    evs[i] = evs[i + 1];
    evs[i + 1] = tmp;
    CHECK(hash_of(evs, NBASE) != base);
  }
  /* the same event twice is not the same as once, nor as twice elsewhere */
  vsim_event two[2] = {base_stream[1], base_stream[1]};
  CHECK(hash_of(two, 2) != hash_of(two, 1));
  /* two all-zero events differ from one */
  vsim_event zero[2];
  memset(zero, 0, sizeof zero);
  CHECK(hash_of(zero, 2) != hash_of(zero, 1));
}

/* ---- JSON Lines ------------------------------------------------------------ */

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 8192;
      char *nb = realloc(buf, cap);
      if (!nb) break;
      buf = nb;
    }
    size_t r = fread(buf + n, 1, 4096, f);
    n += r;
    if (r == 0) break;
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

static size_t count_lines(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

/* The i-th line (0-based) of s, copied into out. */
static bool nth_line(const char *s, size_t i, char *out, size_t cap) {
  for (size_t k = 0; k < i; k++) {
    s = strchr(s, '\n');
    if (!s) return false;
    s++;
  }
  const char *e = strchr(s, '\n');
  size_t n = e ? (size_t)(e - s) : strlen(s);
  if (n >= cap) return false;
  memcpy(out, s, n);
  out[n] = '\0';
  return true;
}

static void test_jsonl(void) {
  char path[] = "/tmp/vsim-test-trace-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);

  vsim_trace t, plain;
  vsim_trace_init(&t);
  vsim_trace_init(&plain);
  CHECK_EQ(vsim_trace_open(&t, path), 0);
  CHECK(t.out != NULL);
  const char *header = "{\"header\":{\"scenario\":\"x \\\"quoted\\\"\",\"seed\":7}}";
  vsim_trace_begin(&t, header);
  for (size_t i = 0; i < NBASE; i++) {
    vsim_trace_emit(&t, &base_stream[i]);
    vsim_trace_emit(&plain, &base_stream[i]);
  }
  vsim_event odd = {9, 0, 0, -1, 0, 0, 0, 0}; /* kind 0 has no name */
  vsim_trace_emit(&t, &odd);
  vsim_trace_emit(&plain, &odd);
  vsim_trace_note(&t, "{\"footer\":{}}");
  /* writing a file does not change the hash */
  CHECK(t.hash == plain.hash);
  CHECK_EQ(t.count, plain.count);
  vsim_trace_close(&t);
  CHECK(t.out == NULL);
  /* closed: further events and notes write nothing (and do not crash) */
  vsim_trace_emit(&t, &base_stream[0]);
  vsim_trace_note(&t, "{\"late\":true}");
  vsim_trace_close(&t); /* twice is harmless */

  size_t len = 0;
  char *text = slurp(path, &len);
  CHECK(text != NULL);
  unlink(path);
  if (!text) return;
  CHECK_EQ(count_lines(text), NBASE + 3);
  CHECK(len > 0 && text[len - 1] == '\n');
  char line[512];
  CHECK(nth_line(text, 0, line, sizeof line) && strcmp(line, header) == 0);
  CHECK(nth_line(text, 1, line, sizeof line) &&
        strcmp(line, "{\"step\":1,\"actor\":\"driver\",\"kind\":\"step\",\"q\":-1,\"a\":0,\"b\":5,"
                     "\"c\":0,\"d\":0}") == 0);
  CHECK(nth_line(text, 2, line, sizeof line) && strstr(line, "\"kind\":\"kick\"") != NULL);
  CHECK(nth_line(text, 3, line, sizeof line) &&
        strcmp(line, "{\"step\":2,\"actor\":\"dev.q0\",\"kind\":\"pop\",\"q\":0,\"a\":3,\"b\":2,"
                     "\"c\":16,\"d\":513}") == 0);
  CHECK(nth_line(text, 4, line, sizeof line) && strstr(line, "\"kind\":\"used\"") != NULL);
  CHECK(nth_line(text, 5, line, sizeof line) &&
        strstr(line, "\"actor\":\"engine\",\"kind\":\"stall\"") != NULL);
  CHECK(nth_line(text, 6, line, sizeof line) &&
        strcmp(line, "{\"step\":4,\"actor\":\"dev.q1\",\"kind\":\"irq\",\"q\":1,\"a\":1,"
                     "\"b\":18446744073709551615,\"c\":0,\"d\":9223372036854775808}") == 0);
  CHECK(nth_line(text, 7, line, sizeof line) && strstr(line, "\"kind\":\"unknown\"") != NULL);
  CHECK(nth_line(text, 8, line, sizeof line) && strcmp(line, "{\"footer\":{}}") == 0);
  CHECK(strstr(text, "late") == NULL);
  /* one line per event, each a JSON object whose fields are the event's */
  for (size_t i = 0; i < NBASE + 3; i++) {
    CHECK(nth_line(text, i, line, sizeof line));
    json_error_t je;
    /* values above 2^63-1 are valid JSON, but jansson reads integers as
     * int64: those lines are parsed as reals */
    size_t flags = strstr(line, "18446744073709551615") ? JSON_DECODE_INT_AS_REAL : 0;
    json_t *v = json_loads(line, flags, &je);
    CHECK(v != NULL && json_is_object(v));
    if (v && !flags && i >= 1 && i <= NBASE) {
      const vsim_event *ev = &base_stream[i - 1];
      CHECK_EQ(json_integer_value(json_object_get(v, "step")), (long long)ev->step);
      CHECK_EQ(json_integer_value(json_object_get(v, "q")), ev->q);
      CHECK(strcmp(json_string_value(json_object_get(v, "kind")), vsim_event_kind_name(ev->kind)) == 0);
      /* jansson reads integers as signed 64-bit: compare the small ones */
      if (ev->a < (UINT64_C(1) << 62)) CHECK_EQ(json_integer_value(json_object_get(v, "a")), (long long)ev->a);
      if (ev->d < (UINT64_C(1) << 62)) CHECK_EQ(json_integer_value(json_object_get(v, "d")), (long long)ev->d);
    }
    json_decref(v);
  }
  free(text);
}

static void test_no_file(void) {
  /* no file open: emit and note only hash; a trace reopened later starts
   * writing from then on, and what came before is not in the file */
  vsim_trace t;
  vsim_trace_init(&t);
  vsim_trace_note(&t, "{\"never\":1}");
  vsim_trace_emit(&t, &base_stream[0]);
  CHECK_EQ(t.count, 1);
  CHECK(t.out == NULL);

  char path[] = "/tmp/vsim-test-trace-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);
  CHECK_EQ(vsim_trace_open(&t, path), 0);
  vsim_trace_emit(&t, &base_stream[1]);
  /* lines before the header (a backend's creation reports before the run
   * writes its header) come after it in the file */
  vsim_trace_begin(&t, "{\"header\":{}}");
  vsim_trace_emit(&t, &base_stream[2]);
  vsim_trace_close(&t);
  char *text = slurp(path, NULL);
  unlink(path);
  CHECK(text != NULL);
  if (text) {
    char line[512];
    CHECK_EQ(count_lines(text), 3);
    CHECK(strstr(text, "never") == NULL);
    CHECK(nth_line(text, 0, line, sizeof line) && strcmp(line, "{\"header\":{}}") == 0);
    CHECK(nth_line(text, 1, line, sizeof line) && strstr(line, "\"kind\":\"kick\"") != NULL);
    CHECK(nth_line(text, 2, line, sizeof line) && strstr(line, "\"kind\":\"pop\"") != NULL);
    free(text);
  }
  CHECK_EQ(t.count, 3);

  CHECK(t.hash == hash_of(base_stream, 3));

  /* a run that never wrote its header leaves an empty file */
  vsim_trace w;
  vsim_trace_init(&w);
  CHECK_EQ(vsim_trace_open(&w, path), 0);
  vsim_trace_emit(&w, &base_stream[1]);
  vsim_trace_close(&w);
  text = slurp(path, NULL);
  unlink(path);
  CHECK(text != NULL && text[0] == 0);
  free(text);

  /* an unwritable path: -1, and the trace keeps working without a file */
  vsim_trace u;
  vsim_trace_init(&u);
  CHECK_EQ(vsim_trace_open(&u, "/nonexistent-dir-vsim/x/trace.jsonl"), -1);
  CHECK(u.out == NULL);
  vsim_trace_emit(&u, &base_stream[0]);
  CHECK_EQ(u.count, 1);
}

static void test_kind_names(void) {
  CHECK(strcmp(vsim_event_kind_name(0), "unknown") == 0);
  CHECK(strcmp(vsim_event_kind_name(-1), "unknown") == 0);
  CHECK(strcmp(vsim_event_kind_name(VSIM_EV__COUNT), "unknown") == 0);
  CHECK(strcmp(vsim_event_kind_name(1 << 30), "unknown") == 0);
  CHECK(strcmp(vsim_event_kind_name(VSIM_EV_KICK), "kick") == 0);
  CHECK(strcmp(vsim_event_kind_name(VSIM_EV_VIOLATION), "violation") == 0);
  /* every kind has its own name */
  for (int k = 1; k < VSIM_EV__COUNT; k++) {
    const char *n = vsim_event_kind_name(k);
    CHECK(strcmp(n, "unknown") != 0);
    for (int j = 1; j < k; j++) CHECK(strcmp(n, vsim_event_kind_name(j)) != 0);
  }
}

int main(void) {
  RUN(test_hash_stable);
  RUN(test_hash_fields);
  RUN(test_hash_order);
  RUN(test_jsonl);
  RUN(test_no_file);
  RUN(test_kind_names);
  TEST_MAIN_END();
}
