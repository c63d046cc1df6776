/* backend-model/host_report.h — a violation with a formatted detail, through
 * the host interface.
 *
 * Owns: formatting the one-line detail (bounded by VSIM_VIOLATION_DETAIL_MAX)
 * and handing it to vsim_host.violation, for the device-side modules (rings,
 * the vhost-user adapter) that report what they see.
 * Must never: report when the host has no violation sink.
 */
#ifndef VSIM_HOST_REPORT_H
#define VSIM_HOST_REPORT_H

#include "virtiosim/backend.h"

__attribute__((format(printf, 4, 5))) void vsim_host_reportf(const vsim_host *host, int check, int q,
                                                             const char *fmt, ...);

#endif
