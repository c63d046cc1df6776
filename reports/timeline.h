/* reports/timeline.h — a run in the Chrome trace-event format (JSON), for
 * Perfetto (ui.perfetto.dev) and chrome://tracing.
 *
 * Owns: turning the event stream and the scheduler's decisions into tracks:
 * one per actor (driver, each device worker, the interrupt timer, the engine)
 * with one slice per step the actor ran; requests as complete ("X") slices,
 * from submit to completion on the driver's side and from pop to used on the
 * device's, on lanes of their own so that overlapping requests never
 * mis-nest; kicks, interrupts, violations and faults as instant ("i") events.
 * Time is virtual: one scheduler step is 1000 us of timeline time, and the
 * k-th event of a step sits k us into it (no wall clock anywhere).
 * Must never: depend on anything but its input, so the same trace gives the
 * same file.
 */
#ifndef VSIM_TIMELINE_H
#define VSIM_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "trace.h"

/* picks[i] is the actor id that ran step i + 1 (-1 unknown). Returns 0, or -1
 * when out of memory (nothing useful was written). */
int vsim_timeline_write(FILE *out, const char *name, const vsim_event *ev, size_t nev,
                        const int32_t *picks, size_t npicks);

#endif
