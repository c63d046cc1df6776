/* sim/json_pos.h — where a JSON value starts in its source text.
 *
 * Owns: a path into a JSON document (object keys and array indices) and a
 * small tokenizer that walks the original text to find the line and column
 * (1-based; columns count UTF-8 characters, as jansson's do) at which the
 * value at that path starts. jansson keeps no positions, so error messages
 * and step locations come from here.
 * Must never: read outside [text, text+len), recurse, allocate, or loop more
 * than a bounded number of times per input byte — it must be safe on any
 * bytes, not only on text jansson accepted.
 */
#ifndef VSIM_JSON_POS_H
#define VSIM_JSON_POS_H

#include <stddef.h>
#include <stdint.h>

/* Deeper paths are counted but their extra elements are not stored. */
#define VSIM_JSON_PATH_MAX 16

typedef struct vsim_json_path_elem {
  const char *key; /* object member name (not owned); NULL: array element */
  size_t index;    /* array index when key is NULL */
} vsim_json_path_elem;

typedef struct vsim_json_path {
  unsigned depth; /* may exceed VSIM_JSON_PATH_MAX; only the first MAX are stored */
  vsim_json_path_elem at[VSIM_JSON_PATH_MAX];
} vsim_json_path;

typedef struct vsim_json_loc {
  uint32_t line, col; /* 1-based; saturate at UINT32_MAX */
} vsim_json_loc;

void vsim_json_pos_path_init(vsim_json_path *p);
void vsim_json_pos_push_key(vsim_json_path *p, const char *key);
void vsim_json_pos_push_index(vsim_json_path *p, size_t index);
void vsim_json_pos_pop(vsim_json_path *p);

/* Render as `steps[3].sector`; the empty path is `<root>`. Keys are printed
 * with non-printable bytes, quotes and backslashes replaced by '?' and cut
 * at 48 bytes, so a hostile key cannot garble a message. Returns strlen. */
size_t vsim_json_pos_format(const vsim_json_path *p, char *buf, size_t buflen);

/* Find where the value at `path` starts. When the path does not exist, the
 * position of the deepest existing ancestor is returned (so a missing field
 * points at its enclosing object). Returns how many path elements matched
 * (path->depth when the value exists). On text that is not even a value,
 * *loc is where the scan stopped (at least 1:1). */
unsigned vsim_json_pos_find(const char *text, size_t len, const vsim_json_path *path,
                            vsim_json_loc *loc);

/* Where each element of the array at `path` starts, in one pass over the
 * text: fills locs[0..max) and returns how many elements were seen (may be
 * less than max when the path is missing or not an array). */
size_t vsim_json_pos_elements(const char *text, size_t len, const vsim_json_path *path,
                              vsim_json_loc *locs, size_t max);

#endif
