/* backend-model/host_report.c — see host_report.h. */
#include <stdarg.h>
#include <stdio.h>
#include "host_report.h"
#include "virtiosim/checks.h"

void vsim_host_reportf(const vsim_host *host, int check, int q, const char *fmt, ...) {
  if (!host || !host->violation) return;
  char detail[VSIM_VIOLATION_DETAIL_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  host->violation(host->ctx, check, q, detail);
}
