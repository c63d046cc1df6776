/* sim/json_pos.c — find where a JSON value starts in its source text.
 *
 * Owns: a bounded, non-recursive JSON scanner over (text, len) that follows a
 * path of object keys and array indices and reports line:column of the value
 * it lands on, plus the rendering of such paths for error messages.
 * Must never: read outside [text, text+len), recurse, allocate, or spin: every
 * loop iteration consumes at least one input byte or ends the scan. It runs on
 * text jansson already accepted, but is written to survive arbitrary bytes
 * (the fuzz loop in tests/c/test_scenario.c feeds it garbage directly).
 */
#include "json_pos.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- paths ---------------------------------------------------------------- */

void vsim_json_pos_path_init(vsim_json_path *p) { memset(p, 0, sizeof(*p)); }

void vsim_json_pos_push_key(vsim_json_path *p, const char *key) {
  if (p->depth < VSIM_JSON_PATH_MAX) {
    p->at[p->depth].key = key;
    p->at[p->depth].index = 0;
  }
  p->depth++;
}

void vsim_json_pos_push_index(vsim_json_path *p, size_t index) {
  if (p->depth < VSIM_JSON_PATH_MAX) {
    p->at[p->depth].key = NULL;
    p->at[p->depth].index = index;
  }
  p->depth++;
}

void vsim_json_pos_pop(vsim_json_path *p) {
  if (p->depth > 0) p->depth--;
}

/* A bounded string builder: writes what fits, always NUL-terminates. */
typedef struct appender {
  char *buf;
  size_t cap, n;
} appender;

static void app_char(appender *a, char c) {
  if (a->cap == 0) return;
  if (a->n + 1 < a->cap) {
    a->buf[a->n++] = c;
    a->buf[a->n] = '\0';
  }
}

static void app_str(appender *a, const char *s) {
  for (; *s; s++) app_char(a, *s);
}

#define KEY_PRINT_MAX 48

static void app_key(appender *a, const char *key) {
  size_t i = 0;
  for (; key[i] && i < KEY_PRINT_MAX; i++) {
    unsigned char c = (unsigned char)key[i];
    bool plain = c >= 0x20 && c < 0x7f && c != '\'' && c != '\\';
    app_char(a, plain ? (char)c : '?');
  }
  if (key[i]) app_str(a, "...");
}

size_t vsim_json_pos_format(const vsim_json_path *p, char *buf, size_t buflen) {
  appender a = {buf, buflen, 0};
  if (buflen) buf[0] = '\0';
  if (p->depth == 0) {
    app_str(&a, "<root>");
    return a.n;
  }
  unsigned n = p->depth < VSIM_JSON_PATH_MAX ? p->depth : VSIM_JSON_PATH_MAX;
  for (unsigned i = 0; i < n; i++) {
    if (p->at[i].key) {
      if (i > 0) app_char(&a, '.');
      app_key(&a, p->at[i].key);
    } else {
      char tmp[32];
      snprintf(tmp, sizeof(tmp), "[%zu]", p->at[i].index);
      app_str(&a, tmp);
    }
  }
  if (p->depth > VSIM_JSON_PATH_MAX) app_str(&a, "...");
  return a.n;
}

/* ---- the cursor ----------------------------------------------------------- */

typedef struct cursor {
  const unsigned char *s;
  size_t len, off;
  uint32_t line, col;
} cursor;

static void cur_init(cursor *c, const char *text, size_t len) {
  c->s = (const unsigned char *)text;
  c->len = text ? len : 0;
  c->off = 0;
  c->line = 1;
  c->col = 1;
}

static int cur_peek(const cursor *c) { return c->off < c->len ? c->s[c->off] : -1; }

static uint32_t sat_inc(uint32_t v) { return v == UINT32_MAX ? v : v + 1; }

/* Columns count characters, not bytes, to agree with jansson's messages:
 * UTF-8 continuation bytes (10xxxxxx) do not advance the column. */
static void cur_advance(cursor *c) {
  if (c->off >= c->len) return;
  unsigned char b = c->s[c->off++];
  if (b == '\n') {
    c->line = sat_inc(c->line);
    c->col = 1;
  } else if ((b & 0xC0) != 0x80) {
    c->col = sat_inc(c->col);
  }
}

static vsim_json_loc cur_loc(const cursor *c) {
  vsim_json_loc l = {c->line, c->col};
  return l;
}

static void cur_skip_ws(cursor *c) {
  for (;;) {
    int ch = cur_peek(c);
    if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') return;
    cur_advance(c);
  }
}

/* At '"': consume the whole string. False when the text ends first. */
static bool cur_skip_string(cursor *c) {
  cur_advance(c);
  for (;;) {
    int ch = cur_peek(c);
    if (ch < 0) return false;
    cur_advance(c);
    if (ch == '"') return true;
    if (ch == '\\') cur_advance(c); /* the escaped byte, whatever it is */
  }
}

static bool is_scalar_end(int ch) {
  return ch < 0 || strchr(",:[]{}\" \t\r\n", ch) != NULL;
}

/* Consume one value of any kind. Containers are skipped by counting brackets
 * (strings skipped whole so brackets inside them do not count): no stack, no
 * recursion. True only when at least one byte was consumed and the value
 * closed before the end of the text. */
static bool cur_skip_value(cursor *c) {
  cur_skip_ws(c);
  int ch = cur_peek(c);
  if (ch == '"') return cur_skip_string(c);
  if (ch == '{' || ch == '[') {
    size_t depth = 0;
    for (;;) {
      ch = cur_peek(c);
      if (ch < 0) return false;
      if (ch == '"') {
        if (!cur_skip_string(c)) return false;
        continue;
      }
      cur_advance(c);
      if (ch == '{' || ch == '[') depth++;
      if (ch == '}' || ch == ']') {
        depth--;
        if (depth == 0) return true;
      }
    }
  }
  size_t start = c->off;
  while (!is_scalar_end(cur_peek(c))) cur_advance(c);
  return c->off > start;
}

static int hex_val(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* After "\u": four hex digits, or -1. */
static long cur_hex4(cursor *c) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_val(cur_peek(c));
    if (h < 0) return -1;
    cur_advance(c);
    v = v * 16 + h;
  }
  return v;
}

static size_t utf8_encode(unsigned long cp, unsigned char out[4]) {
  if (cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | (cp >> 6));
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | (cp >> 12));
    out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | (cp >> 18));
  out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* \uD83D\uDE00: a high surrogate joins the low one that follows it. */
static unsigned long cur_unicode_escape(cursor *c, bool *ok) {
  long hi = cur_hex4(c);
  if (hi < 0) {
    *ok = false;
    return 0;
  }
  if (hi < 0xD800 || hi > 0xDBFF) return (unsigned long)hi;
  if (cur_peek(c) != '\\' || c->off + 1 >= c->len || c->s[c->off + 1] != 'u') return (unsigned long)hi;
  cur_advance(c);
  cur_advance(c);
  long lo = cur_hex4(c);
  if (lo < 0xDC00 || lo > 0xDFFF) {
    *ok = false;
    return 0;
  }
  return 0x10000ul + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
}

/* After a backslash: the bytes the escape stands for. 0 on a bad escape. */
static size_t cur_escape(cursor *c, unsigned char out[4]) {
  int ch = cur_peek(c);
  if (ch < 0) return 0;
  cur_advance(c);
  switch (ch) {
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'u': {
      bool ok = true;
      unsigned long cp = cur_unicode_escape(c, &ok);
      return ok ? utf8_encode(cp, out) : 0;
    }
    default: out[0] = (unsigned char)ch; return 1; /* '"', '\\', '/' */
  }
}

/* At '"': consume a key and compare its decoded bytes with `key` on the fly
 * (no buffer, so no length limit). 1 equal, 0 different, -1 malformed. */
static int cur_match_key(cursor *c, const char *key) {
  const unsigned char *k = (const unsigned char *)key;
  size_t ki = 0;
  bool eq = k != NULL;
  cur_advance(c);
  for (;;) {
    int ch = cur_peek(c);
    if (ch < 0) return -1;
    if (ch == '"') {
      cur_advance(c);
      return eq && k[ki] == '\0' ? 1 : 0;
    }
    unsigned char bytes[4];
    size_t n = 1;
    cur_advance(c);
    if (ch == '\\') {
      n = cur_escape(c, bytes);
      if (n == 0) eq = false;
    } else {
      bytes[0] = (unsigned char)ch;
    }
    for (size_t i = 0; i < n && eq; i++) {
      if (k[ki] == '\0' || k[ki] != bytes[i]) eq = false;
      else ki++;
    }
  }
}

/* At '{': move to the start of the value of member `key`. */
static bool cur_enter_member(cursor *c, const char *key) {
  if (cur_peek(c) != '{') return false;
  cur_advance(c);
  for (;;) {
    cur_skip_ws(c);
    if (cur_peek(c) != '"') return false; /* '}' (not found) or garbage */
    int m = cur_match_key(c, key);
    if (m < 0) return false;
    cur_skip_ws(c);
    if (cur_peek(c) != ':') return false;
    cur_advance(c);
    cur_skip_ws(c);
    if (m == 1) return cur_peek(c) >= 0;
    if (!cur_skip_value(c)) return false;
    cur_skip_ws(c);
    if (cur_peek(c) != ',') return false;
    cur_advance(c);
  }
}

static bool cur_at_value(const cursor *c) {
  int ch = cur_peek(c);
  return ch >= 0 && ch != ']' && ch != '}' && ch != ',' && ch != ':';
}

/* At '[': move to the start of element `index`. */
static bool cur_enter_element(cursor *c, size_t index) {
  if (cur_peek(c) != '[') return false;
  cur_advance(c);
  for (size_t i = 0;; i++) {
    cur_skip_ws(c);
    if (!cur_at_value(c)) return false;
    if (i == index) return true;
    if (!cur_skip_value(c)) return false;
    cur_skip_ws(c);
    if (cur_peek(c) != ',') return false;
    cur_advance(c);
  }
}

/* Follow `path` from the root; *best is the start of the deepest value
 * reached. Returns the number of elements matched. */
static unsigned cur_descend(cursor *c, const vsim_json_path *path, vsim_json_loc *best) {
  cur_skip_ws(c);
  *best = cur_loc(c);
  unsigned n = path->depth < VSIM_JSON_PATH_MAX ? path->depth : VSIM_JSON_PATH_MAX;
  unsigned matched = 0;
  for (; matched < n; matched++) {
    const vsim_json_path_elem *e = &path->at[matched];
    bool ok = e->key ? cur_enter_member(c, e->key) : cur_enter_element(c, e->index);
    if (!ok) break;
    *best = cur_loc(c);
  }
  return matched;
}

unsigned vsim_json_pos_find(const char *text, size_t len, const vsim_json_path *path,
                            vsim_json_loc *loc) {
  cursor c;
  vsim_json_loc best;
  cur_init(&c, text, len);
  unsigned matched = cur_descend(&c, path, &best);
  if (loc) *loc = best;
  return matched;
}

size_t vsim_json_pos_elements(const char *text, size_t len, const vsim_json_path *path,
                              vsim_json_loc *locs, size_t max) {
  cursor c;
  vsim_json_loc best;
  cur_init(&c, text, len);
  if (cur_descend(&c, path, &best) != path->depth) return 0;
  if (cur_peek(&c) != '[') return 0;
  cur_advance(&c);
  size_t count = 0;
  while (count < max) {
    cur_skip_ws(&c);
    if (!cur_at_value(&c)) break;
    locs[count++] = cur_loc(&c);
    if (!cur_skip_value(&c)) break;
    cur_skip_ws(&c);
    if (cur_peek(&c) != ',') break;
    cur_advance(&c);
  }
  return count;
}
