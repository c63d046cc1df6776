/* reports/conform_report.c — report.json, junit.xml and index.html of a
 * conformance run (see conform_report.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "conform_report.h"
#include "datafile.h"
#include "scenario.h"
#include "virtiosim/checks.h"
#include "virtiosim/virtiosim.h"

#define HTML_PICTURES_PER_SUITE 10

static bool is_bad(enum vsim_verdict v) {
  return v == VSIM_V_FAIL || v == VSIM_V_WARN || v == VSIM_V_WEDGED || v == VSIM_V_CRASHED ||
         v == VSIM_V_XPASS || v == VSIM_V_XFAIL;
}

/* The part of a test id between the brackets. */
static void variant_of(const char *id, char *out, size_t outlen) {
  const char *a = strchr(id, '['), *b = a ? strchr(a, ']') : NULL;
  size_t n = a && b ? (size_t)(b - a - 1) : 0;
  if (n >= outlen) n = outlen - 1;
  memcpy(out, a ? a + 1 : "", n);
  out[n] = 0;
}

static int write_json(const char *path, const vsim_conform_config *cfg, const vsim_conform_plan *plan,
                      const vsim_conform_result *res) {
  json_t *tests = json_array();
  size_t counts[VSIM_V__COUNT] = {0};
  for (size_t i = 0; i < plan->ntests; i++) {
    const vsim_conform_test *t = &plan->tests[i];
    const vsim_conform_result *r = &res[i];
    counts[r->verdict]++;
    json_t *checks = json_array();
    for (unsigned k = 0; k < r->nchecks; k++) {
      const vsim_check_info *ci = vsim_check_info_get(r->checks[k].check);
      json_array_append_new(checks, json_pack("{s:s,s:s,s:s,s:s,s:b}", "id", ci->id, "label", ci->label,
                                              "severity", ci->severity == VSIM_SEV_MUST ? "MUST" : "SHOULD",
                                              "judges", ci->judged == VSIM_JUDGED_DRIVER ? "driver" : "device",
                                              "tolerated_by_profile", r->checks[k].downgraded));
    }
    char repro[1024], variant[64];
    vsim_conform_repro(cfg, t, repro, sizeof repro);
    variant_of(t->id, variant, sizeof variant);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:b}", "id", t->id, "suite",
                          plan->suites[t->suite].name, "scenario", t->rel, "variant", variant, "verdict",
                          vsim_verdict_name(r->verdict), "severity", vsim_failure_severity_name(r->severity),
                          "checks", checks, "reason", r->reason, "adversarial", t->adversarial);
    json_object_set_new(o, "seed", t->seed_index ? json_integer((json_int_t)(cfg->seed + t->seed_index - 1))
                                                 : json_string("as written"));
    json_object_set_new(o, "policy", json_string(t->seed_index ? "random" : "as written"));
    json_object_set_new(o, "transport", json_string(t->transport == VSIM_TRANSPORT_PCI ? "pci" : "mmio"));
    json_object_set_new(o, "steps", json_integer((json_int_t)r->steps));
    char hash[24];
    snprintf(hash, sizeof hash, "%016" PRIx64, r->hash);
    json_object_set_new(o, "trace_hash", json_string(hash));
    if (r->verdict != VSIM_V_PASS && r->verdict != VSIM_V_SKIP) json_object_set_new(o, "repro", json_string(repro));
    if (vsim_conform_replay_cmd(cfg, t, repro, sizeof repro)) json_object_set_new(o, "replay", json_string(repro));
    if (r->step && is_bad(r->verdict)) json_object_set_new(o, "failing_step", json_integer((json_int_t)r->step));
    if (r->excerpt) json_object_set_new(o, "trace_excerpt", json_string(r->excerpt));
    if (r->xfail_reason[0]) json_object_set_new(o, "xfail_reason", json_string(r->xfail_reason));
    json_array_append_new(tests, o);
  }
  json_t *summary = json_object();
  for (int v = 0; v < VSIM_V__COUNT; v++)
    json_object_set_new(summary, vsim_verdict_name((enum vsim_verdict)v), json_integer((json_int_t)counts[v]));
  char offered[24];
  snprintf(offered, sizeof offered, "0x%016" PRIx64, plan->offered);
  json_t *root = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:o}", "tool", "virtio-sim " VSIM_VERSION, "backend",
                           cfg->backend, "device", cfg->device, "profile",
                           cfg->profile == VSIM_PROFILE_COMPAT ? "compat" : "strict", "offered_features",
                           offered, "seed", (json_int_t)cfg->seed, "summary", summary, "tests", tests);
  const vsim_conform_unobserved *un;
  size_t nun = vsim_conform_unobserved_checks(cfg, &un);
  json_t *unseen = json_array();
  for (size_t i = 0; i < nun; i++)
    json_array_append_new(unseen, json_pack("{s:s,s:s}", "check", vsim_check_info_get(un[i].check)->id, "why",
                                            un[i].why));
  if (root) json_object_set_new(root, "unobserved_checks", unseen);
  else json_decref(unseen);
  int rc = root ? json_dump_file(root, path, JSON_INDENT(1)) : -1;
  json_decref(root);
  return rc;
}

static void xml_text(FILE *f, const char *s) {
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '&': fputs("&amp;", f); break;
      case '"': fputs("&quot;", f); break;
      case '\'': fputs("&#39;", f); break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t') fputc('?', f);
        else fputc(c, f);
    }
  }
}

static int write_junit(const char *path, const vsim_conform_config *cfg, const vsim_conform_plan *plan,
                       const vsim_conform_result *res) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"virtio-sim conform\">\n");
  for (size_t s = 0; s < plan->nsuites; s++) {
    size_t n = 0, failures = 0, skipped = 0;
    for (size_t i = 0; i < plan->ntests; i++) {
      if (plan->tests[i].suite != s) continue;
      n++;
      enum vsim_verdict v = res[i].verdict;
      if (v == VSIM_V_FAIL || v == VSIM_V_WEDGED || v == VSIM_V_CRASHED || v == VSIM_V_XPASS) failures++;
      if (v == VSIM_V_SKIP || v == VSIM_V_XFAIL) skipped++;
    }
    if (!n) continue;
    fprintf(f, "  <testsuite name=\"");
    xml_text(f, plan->suites[s].name);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", n, failures, skipped);
    for (size_t i = 0; i < plan->ntests; i++) {
      const vsim_conform_test *t = &plan->tests[i];
      const vsim_conform_result *r = &res[i];
      if (t->suite != s) continue;
      fprintf(f, "    <testcase classname=\"");
      xml_text(f, plan->suites[s].name);
      fprintf(f, "\" name=\"");
      xml_text(f, t->id);
      fprintf(f, "\">\n");
      fprintf(f, "      <properties><property name=\"transport\" value=\"%s\"/></properties>\n",
              t->transport == VSIM_TRANSPORT_PCI ? "pci" : "mmio");
      char repro[1024];
      vsim_conform_repro(cfg, t, repro, sizeof repro);
      /* message: verdict, the first check and its spec label */
      char msg[900];
      if (r->nchecks) {
        const vsim_check_info *ci = vsim_check_info_get(r->checks[0].check);
        snprintf(msg, sizeof msg, "%s: %s [%s] %s", vsim_verdict_name(r->verdict), ci->id,
                 ci->severity == VSIM_SEV_MUST ? "MUST" : "SHOULD", ci->label);
      } else {
        snprintf(msg, sizeof msg, "%s: %.800s", vsim_verdict_name(r->verdict), r->reason);
      }
      switch (r->verdict) {
        case VSIM_V_FAIL:
        case VSIM_V_WEDGED:
        case VSIM_V_CRASHED:
        case VSIM_V_XPASS:
          fprintf(f, "      <failure type=\"%s\" message=\"", vsim_verdict_name(r->verdict));
          xml_text(f, msg);
          fprintf(f, "\">");
          xml_text(f, r->reason);
          fprintf(f, "\nseverity: %s\nreproduce: ", vsim_failure_severity_name(r->severity));
          xml_text(f, repro);
          if (vsim_conform_replay_cmd(cfg, t, repro, sizeof repro)) {
            fprintf(f, "\nreplay without the back-end: ");
            xml_text(f, repro);
          }
          fprintf(f, "</failure>\n");
          break;
        case VSIM_V_SKIP:
        case VSIM_V_XFAIL:
          fprintf(f, "      <skipped message=\"");
          xml_text(f, r->verdict == VSIM_V_XFAIL ? r->xfail_reason : r->reason);
          fprintf(f, "\"/>\n");
          break;
        default:
          if (r->reason[0]) {
            fprintf(f, "      <system-out>");
            xml_text(f, msg);
            fprintf(f, "\n");
            xml_text(f, r->reason);
            fprintf(f, "</system-out>\n");
          }
      }
      fprintf(f, "    </testcase>\n");
    }
    fprintf(f, "  </testsuite>\n");
  }
  fprintf(f, "</testsuites>\n");
  return fclose(f) ? -1 : 0;
}

static const char *verdict_color(enum vsim_verdict v) {
  switch (v) {
    case VSIM_V_PASS: return "#cdeccd";
    case VSIM_V_REJECT: return "#d8e8f8";
    case VSIM_V_WARN: return "#fbeeb8";
    case VSIM_V_SKIP: return "#eeeeee";
    case VSIM_V_XFAIL: return "#e6dcf5";
    default: return "#f6c6c6";
  }
}

/* An SVG document from reports/show.c, without its XML declaration, so that
 * it sits inline in the HTML. */
static void inline_svg(FILE *f, const char *svg) {
  const char *p = strstr(svg, "<svg");
  fputs(p ? p : "", f);
}

static void html_coverage(FILE *f, const vsim_conform_plan *plan, const vsim_conform_result *res) {
  char used[600];
  vsim_datafile_find("conformance/normative-index.json", used, sizeof used);
  json_error_t je;
  json_t *idx = json_load_file(used, 0, &je);
  fprintf(f, "<h2 id=\"coverage\">Coverage of normative sections</h2>\n");
  if (!json_is_array(idx)) {
    fprintf(f, "<p>The normative index was not found (");
    xml_text(f, used);
    fprintf(f, ").</p>\n");
    json_decref(idx);
    return;
  }
  /* per check: tests in which it failed */
  size_t failed_in[VSIM_CHK__COUNT] = {0};
  for (size_t i = 0; i < plan->ntests; i++)
    for (unsigned k = 0; k < res[i].nchecks; k++) failed_in[res[i].checks[k].check]++;
  fprintf(f, "<table class=\"cov\"><tr><th>area</th><th>normative section</th><th>checks</th>"
             "<th>failed in this run</th></tr>\n");
  size_t i, covered = 0, total = 0;
  json_t *e;
  json_array_foreach(idx, i, e) {
    const char *label = json_string_value(json_object_get(e, "label"));
    const char *area = json_string_value(json_object_get(e, "area"));
    if (!label || !area) continue;
    total++;
    int nchecks = 0;
    size_t failed = 0;
    for (int c = 0; c < vsim_check_count(); c++)
      if (strcmp(vsim_check_info_get(c)->label, label) == 0) {
        nchecks++;
        failed += failed_in[c];
      }
    if (nchecks) covered++;
    fprintf(f, "<tr class=\"%s\"><td>", nchecks ? "has" : "none");
    xml_text(f, area);
    fprintf(f, "</td><td>");
    xml_text(f, label);
    fprintf(f, "</td><td>");
    int shown = 0;
    for (int c = 0; c < vsim_check_count(); c++)
      if (strcmp(vsim_check_info_get(c)->label, label) == 0) {
        fprintf(f, "%s<code>", shown++ ? ", " : "");
        xml_text(f, vsim_check_info_get(c)->id);
        fprintf(f, "</code>");
      }
    fprintf(f, "</td><td>%s</td></tr>\n", failed ? "yes" : "");
  }
  fprintf(f, "</table>\n<p>%zu of %zu normative sections have at least one check.</p>\n", covered, total);
  json_decref(idx);
}

static int write_html(const char *path, const vsim_conform_config *cfg, const vsim_conform_plan *plan,
                      const vsim_conform_result *res) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>virtio-sim conform: ");
  xml_text(f, cfg->backend);
  fprintf(f, "</title>\n<style>\n"
             "body{font-family:sans-serif;margin:1.5em;color:#222}\n"
             "table{border-collapse:collapse;margin:0.5em 0}\n"
             "td,th{border:1px solid #bbb;padding:2px 8px;font-size:13px;text-align:left}\n"
             "td.n{text-align:right}\n"
             "pre{background:#f4f4f4;padding:6px;overflow-x:auto;font-size:12px}\n"
             ".failure{border:1px solid #d99;margin:1em 0;padding:0.5em 1em}\n"
             "tr.none td{color:#888}\n"
             "svg{max-width:100%%;height:auto;border:1px solid #ccc}\n"
             "</style></head><body>\n");
  fprintf(f, "<h1>virtio-sim conformance report</h1>\n<p>backend <code>");
  xml_text(f, cfg->backend);
  fprintf(f, "</code>, device <code>");
  xml_text(f, cfg->device);
  fprintf(f, "</code>, profile <b>%s</b>, %zu tests, offered features <code>0x%016" PRIx64 "</code>. "
             "Machine-readable: <a href=\"report.json\">report.json</a>, <a href=\"junit.xml\">junit.xml</a>. "
             "<a href=\"#coverage\">Coverage</a>, <a href=\"#all-tests\">all tests</a>.</p>\n",
          cfg->profile == VSIM_PROFILE_COMPAT ? "compat" : "strict", plan->ntests, plan->offered);

  const vsim_conform_unobserved *un;
  size_t nun = vsim_conform_unobserved_checks(cfg, &un);
  if (nun) {
    fprintf(f, "<p>Not (fully) observable with this back-end:</p>\n<ul>\n");
    for (size_t i = 0; i < nun; i++) {
      fprintf(f, "<li><code>%s</code>: ", vsim_check_info_get(un[i].check)->id);
      xml_text(f, un[i].why);
      fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul>\n");
  }

  /* the verdict matrix */
  fprintf(f, "<h2 id=\"matrix\">Verdicts by suite</h2>\n<table><tr><th>suite</th><th>area</th>");
  for (int v = 0; v < VSIM_V__COUNT; v++) fprintf(f, "<th>%s</th>", vsim_verdict_name((enum vsim_verdict)v));
  fprintf(f, "</tr>\n");
  for (size_t s = 0; s < plan->nsuites; s++) {
    size_t c[VSIM_V__COUNT] = {0}, n = 0;
    for (size_t i = 0; i < plan->ntests; i++)
      if (plan->tests[i].suite == s) {
        c[res[i].verdict]++;
        n++;
      }
    if (!n) continue;
    fprintf(f, "<tr><td><a href=\"#suite-");
    xml_text(f, plan->suites[s].name);
    fprintf(f, "\">");
    xml_text(f, plan->suites[s].name);
    fprintf(f, "</a></td><td>");
    xml_text(f, plan->suites[s].area);
    fprintf(f, "</td>");
    for (int v = 0; v < VSIM_V__COUNT; v++)
      fprintf(f, "<td class=\"n\" style=\"background:%s\">%zu</td>",
              c[v] ? verdict_color((enum vsim_verdict)v) : "#fff", c[v]);
    fprintf(f, "</tr>\n");
  }
  fprintf(f, "</table>\n");

  /* failures, per suite */
  fprintf(f, "<h2 id=\"failures\">Failures and warnings</h2>\n");
  for (size_t s = 0; s < plan->nsuites; s++) {
    bool any_test = false;
    for (size_t i = 0; i < plan->ntests; i++) any_test |= plan->tests[i].suite == s;
    if (!any_test) continue;
    fprintf(f, "<h3 id=\"suite-");
    xml_text(f, plan->suites[s].name);
    fprintf(f, "\">");
    xml_text(f, plan->suites[s].name);
    fprintf(f, ": ");
    xml_text(f, plan->suites[s].title);
    fprintf(f, "</h3>\n");
    size_t shown = 0;
    for (size_t i = 0; i < plan->ntests; i++) {
      const vsim_conform_test *t = &plan->tests[i];
      const vsim_conform_result *r = &res[i];
      if (t->suite != s || !is_bad(r->verdict)) continue;
      shown++;
      /* a broken backend fails thousands of tests: the first ones of each
       * suite get the events and the picture, the rest their reason and
       * reproduce line, so that the page stays small enough to open */
      bool full = shown <= HTML_PICTURES_PER_SUITE;
      fprintf(f, "<div class=\"failure\" id=\"t%zu\"><p><b style=\"background:%s\">%s</b> severity %s: <code>", i,
              verdict_color(r->verdict), vsim_verdict_name(r->verdict), vsim_failure_severity_name(r->severity));
      xml_text(f, t->id);
      fprintf(f, "</code></p>\n<p>");
      xml_text(f, r->reason);
      fprintf(f, "</p>\n");
      if (r->xfail_reason[0]) {
        fprintf(f, "<p>expected to fail: ");
        xml_text(f, r->xfail_reason);
        fprintf(f, "</p>\n");
      }
      if (r->nchecks) {
        fprintf(f, "<ul>\n");
        for (unsigned k = 0; k < r->nchecks; k++) {
          const vsim_check_info *ci = vsim_check_info_get(r->checks[k].check);
          fprintf(f, "<li><code>");
          xml_text(f, ci->id);
          fprintf(f, "</code> [%s%s] ", ci->severity == VSIM_SEV_MUST ? "MUST" : "SHOULD",
                  r->checks[k].downgraded ? ", tolerated by compat" : "");
          xml_text(f, ci->label);
          fprintf(f, ": ");
          xml_text(f, ci->what);
          fprintf(f, "</li>\n");
        }
        fprintf(f, "</ul>\n");
      }
      char repro[1024];
      vsim_conform_repro(cfg, t, repro, sizeof repro);
      fprintf(f, "<p>reproduce:</p><pre>");
      xml_text(f, repro);
      fprintf(f, "</pre>\n");
      if (vsim_conform_replay_cmd(cfg, t, repro, sizeof repro)) {
        fprintf(f, "<p>replay without the back-end:</p><pre>");
        xml_text(f, repro);
        fprintf(f, "</pre>\n");
      }
      if (full && r->excerpt && r->excerpt[0]) {
        fprintf(f, "<p>events of step %" PRIu64 ":</p><pre>", r->step);
        xml_text(f, r->excerpt);
        fprintf(f, "</pre>\n");
      }
      if (full && r->svg) {
        fprintf(f, "<p>ring state at step %" PRIu64 ":</p>\n", r->step);
        inline_svg(f, r->svg);
        fprintf(f, "\n");
      }
      fprintf(f, "</div>\n");
    }
    if (!shown) fprintf(f, "<p>No failures or warnings.</p>\n");
  }

  html_coverage(f, plan, res);

  fprintf(f, "<h2 id=\"all-tests\">All tests</h2>\n<details><summary>%zu tests</summary>\n<table>"
             "<tr><th>test</th><th>transport</th><th>verdict</th><th>severity</th><th>why</th></tr>\n", plan->ntests);
  for (size_t i = 0; i < plan->ntests; i++) {
    const vsim_conform_result *r = &res[i];
    fprintf(f, "<tr><td>");
    if (is_bad(r->verdict)) fprintf(f, "<a href=\"#t%zu\">", i);
    xml_text(f, plan->tests[i].id);
    if (is_bad(r->verdict)) fprintf(f, "</a>");
    fprintf(f, "</td><td>%s", plan->tests[i].transport == VSIM_TRANSPORT_PCI ? "virtio-pci" : "virtio-mmio");
    fprintf(f, "</td><td style=\"background:%s\">%s</td><td>%s</td><td>", verdict_color(r->verdict),
            vsim_verdict_name(r->verdict), vsim_failure_severity_name(r->severity));
    xml_text(f, r->reason);
    fprintf(f, "</td></tr>\n");
  }
  fprintf(f, "</table></details>\n</body></html>\n");
  return fclose(f) ? -1 : 0;
}

int vsim_conform_report_write(const char *dir, const vsim_conform_config *cfg,
                              const vsim_conform_plan *plan, const vsim_conform_result *res,
                              char *err, size_t errlen) {
  if (mkdir(dir, 0777) && errno != EEXIST) {
    snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    return -1;
  }
  char path[1200];
  snprintf(path, sizeof path, "%s/report.json", dir);
  if (write_json(path, cfg, plan, res)) goto fail;
  snprintf(path, sizeof path, "%s/junit.xml", dir);
  if (write_junit(path, cfg, plan, res)) goto fail;
  snprintf(path, sizeof path, "%s/index.html", dir);
  if (write_html(path, cfg, plan, res)) goto fail;
  return 0;
fail:
  snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
  return -1;
}
