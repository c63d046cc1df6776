/* sim/cmd_coverage.c — `virtio-sim coverage [--json] [--index FILE]`.
 *
 * Owns: reading the spec's normative index (conformance/normative-index.json:
 * every in-scope normative section with its area and MUST/SHOULD counts) and
 * printing, per area, which sections at least one check of the catalog cites
 * and which none does. The index is found by vsim_datafile_find (next to the
 * executable's tree, the installed share/ directory, the working directory),
 * or given with --index.
 * Must never: guess a label: a section counts as covered only when a check
 * cites exactly its label.
 */
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd_coverage.h"
#include "datafile.h"
#include "virtiosim/checks.h"

#define INDEX_REL "conformance/normative-index.json"

static json_t *load_index(const char *given, char *used, size_t usedlen) {
  json_error_t e;
  if (given) snprintf(used, usedlen, "%s", given);
  else vsim_datafile_find(INDEX_REL, used, usedlen);
  return json_load_file(used, 0, &e);
}

/* How many checks cite `label`. */
static int checks_citing(const char *label) {
  int n = 0;
  for (int i = 0; i < vsim_check_count(); i++)
    if (strcmp(vsim_check_info_get(i)->label, label) == 0) n++;
  return n;
}

typedef struct area_stat {
  const char *area;
  int sections, covered, must, must_covered;
} area_stat;

int vsim_cli_coverage_command(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "coverage") != 0) return -1;
  bool json = false;
  const char *given = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) json = true;
    else if (strcmp(argv[i], "--index") == 0 && i + 1 < argc) given = argv[++i];
    else {
      fprintf(stderr, "usage: virtio-sim coverage [--json] [--index normative-index.json]\n");
      return 2;
    }
  }
  char used[PATH_MAX + 64];
  json_t *idx = load_index(given, used, sizeof used);
  if (!json_is_array(idx)) {
    fprintf(stderr, "virtio-sim coverage: cannot read the normative index (%s)\n", used);
    json_decref(idx);
    return 2;
  }
  area_stat areas[32];
  int nareas = 0;
  size_t i;
  json_t *e;
  json_t *out = json_object(), *list = json_array();
  json_array_foreach(idx, i, e) {
    const char *label = json_string_value(json_object_get(e, "label"));
    const char *area = json_string_value(json_object_get(e, "area"));
    if (!label || !area) continue;
    int must = (int)json_integer_value(json_object_get(e, "must"));
    int k = 0;
    while (k < nareas && strcmp(areas[k].area, area) != 0) k++;
    if (k == nareas) {
      if (nareas == 32) continue;
      areas[nareas++] = (area_stat){area, 0, 0, 0, 0};
    }
    int cited = checks_citing(label);
    areas[k].sections++;
    areas[k].must += must;
    if (cited) {
      areas[k].covered++;
      areas[k].must_covered += must;
    }
    json_array_append_new(list, json_pack("{s:s,s:s,s:i,s:i}", "label", label, "area", area,
                                          "must", must, "checks", cited));
  }
  int tot_s = 0, tot_c = 0;
  for (int k = 0; k < nareas; k++) {
    tot_s += areas[k].sections;
    tot_c += areas[k].covered;
  }
  if (json) {
    json_object_set_new(out, "index", json_string(used));
    json_object_set_new(out, "sections", list);
    json_object_set_new(out, "covered", json_integer(tot_c));
    json_object_set_new(out, "total", json_integer(tot_s));
    char *text = json_dumps(out, JSON_INDENT(1));
    if (text) printf("%s\n", text);
    free(text);
  } else {
    printf("%-14s %9s %9s   %s\n", "area", "sections", "covered", "sections without a check");
    for (int k = 0; k < nareas; k++) {
      printf("%-14s %9d %9d  ", areas[k].area, areas[k].sections, areas[k].covered);
      int shown = 0;
      json_array_foreach(list, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "area")), areas[k].area) != 0) continue;
        if (json_integer_value(json_object_get(e, "checks"))) continue;
        const char *label = json_string_value(json_object_get(e, "label"));
        const char *tail = strrchr(label, '/');
        printf("%s%s%s", shown++ ? "; " : " ", strncmp(label, "driver", 6) == 0 ? "drv:" : "dev:",
               tail ? tail + 2 : label);
      }
      printf("\n");
    }
    printf("%d of %d normative sections have at least one check (index: %s)\n", tot_c, tot_s, used);
  }
  json_decref(out);
  json_decref(idx);
  return 0;
}
