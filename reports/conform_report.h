/* reports/conform_report.h — the reports of a conformance run.
 *
 * Owns: DIR/report.json (one record per test: id, suite, scenario, variant,
 * verdict, severity, check ids with their spec labels, seed, the command that
 * reproduces it, the trace excerpt of the failing step), DIR/junit.xml (one
 * testcase per test, the spec label in each failure message) and
 * DIR/index.html (self-contained: the verdict matrix by suite and area, the
 * coverage of normative sections, and per failure the ring state at the
 * failing step as a picture and the reproduce command).
 * Must never: write anything that depends on the wall clock, the host or
 * --jobs (two runs write the same bytes), or load anything from the network.
 */
#ifndef VSIM_CONFORM_REPORT_H
#define VSIM_CONFORM_REPORT_H

#include <stddef.h>
#include "conform.h"

int vsim_conform_report_write(const char *dir, const vsim_conform_config *cfg,
                              const vsim_conform_plan *plan, const vsim_conform_result *res,
                              char *err, size_t errlen);

#endif
