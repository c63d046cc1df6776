/* bench/chart.h — a line chart as a self-contained SVG file.
 *
 * Owns: drawing series of (x, y) points (x on a log-2 axis: batch sizes; y
 * linear, or log-10 for figures spanning decades) with axes, ticks, a legend,
 * a title and a note, into an SVG file the bench writes from its own figures
 * (no external tools).
 * Must never: depend on anything but the C library (the chart is part of the
 * bench's output, and the bench must run on a bare build machine).
 */
#ifndef VSIM_BENCH_CHART_H
#define VSIM_BENCH_CHART_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bench_series {
  const char *label;
  const char *color;  /* any SVG colour */
  bool dashed;
  const double *y;    /* one value per x */
} bench_series;

typedef struct bench_chart {
  const char *title;
  const char *note;   /* a line under the title, or NULL */
  const char *xlabel, *ylabel;
  const double *x;    /* > 0, increasing: drawn on a log-2 axis */
  size_t nx;
  const bench_series *series;
  size_t nseries;
  double log_ymin;    /* > 0: log-10 y axis from this decade up (smaller values sit on it) */
} bench_chart;

/* Write the chart to `path`. 0, or -1 when the file cannot be written or the
 * chart has nothing to draw. */
int bench_chart_svg(const bench_chart *c, const char *path);

#endif
