/* sim/datafile.h — finding the files the CLI ships with (the normative index,
 * the suite manifest, the scenarios).
 *
 * Owns: the search order. A path relative to the tree is looked up in the
 * parent and grandparent of the executable's directory, as REL (the source
 * tree: <repo>/build/virtio-sim, <repo>/build/asan/virtio-sim) and as
 * share/virtio-sim/REL (the installed layout, PREFIX/bin/virtio-sim), then in
 * the working directory.
 * Must never: pick a file by anything but this fixed order.
 */
#ifndef VSIM_DATAFILE_H
#define VSIM_DATAFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the first existing candidate for `rel` into `out` and returns true;
 * false (and the working-directory candidate in `out`) when none exists. */
bool vsim_datafile_find(const char *rel, char *out, size_t outlen);

#endif
