/* reports/show.h — the state of every queue of a simulation, as text and as
 * an SVG picture.
 *
 * Owns: reading the rings out of guest memory (split: descriptor table,
 * available ring, used ring; packed: descriptor ring with its AVAIL/USED bits,
 * both event suppression structures), putting them beside the driver's and
 * the device's private indices, and the in-flight chains with the first bytes
 * of their buffers; the device status and the features.
 * Must never: change the simulation. Guest memory is read through the arena's
 * base pointer with our own bounds checks, never through the checked
 * accessors, which would report (and count) a fault for an unreadable ring.
 */
#ifndef VSIM_SHOW_H
#define VSIM_SHOW_H

#include <stdint.h>
#include <stdio.h>
#include "virtiosim/virtiosim.h"

/* Print the state after step `step` as readable text. */
void vsim_show_text(FILE *out, vsim_sim *s, uint64_t step);
/* Write the same as a self-contained SVG document: one panel per queue, the
 * rings as rows of boxes coloured by who owns each entry, the indices as
 * labelled arrows. */
void vsim_show_svg(FILE *out, vsim_sim *s, uint64_t step);

#endif
