/* bench/chart.c — a line chart as SVG (see chart.h). */
#include "chart.h"

#include <math.h>
#include <stdio.h>

#define W 900.0
#define H 460.0
#define LEFT 70.0
#define RIGHT 300.0 /* room for the legend */
#define TOP 70.0
#define BOTTOM 60.0

/* A round upper bound for the y axis (1, 2 or 5 times a power of ten), so
 * that ticks land on readable values. */
static double nice_ceiling(double v) {
  if (v <= 0) return 1;
  double p = pow(10, floor(log10(v)));
  for (int i = 0; i < 4; i++) {
    static const double m[] = {1, 2, 5, 10};
    if (v <= m[i] * p) return m[i] * p;
  }
  return 10 * p;
}

/* Where v sits on the y axis, 0 (bottom) to 1 (top). */
static double yfrac(double v, bool logy, double ymax, double l0, double l1) {
  if (!logy) return v / ymax;
  double l = v > 0 ? log10(v) : l0;
  if (l < l0) l = l0;
  return (l - l0) / (l1 - l0);
}

/* Text goes into the file as is: escape what SVG (XML) would read as markup. */
static void text_escaped(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '&': fputs("&amp;", f); break;
      case '"': fputs("&quot;", f); break;
      default: fputc(*s, f);
    }
  }
}

int bench_chart_svg(const bench_chart *c, const char *path) {
  if (!c || c->nx == 0 || c->nseries == 0) return -1;
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  double ymax = 0;
  for (size_t s = 0; s < c->nseries; s++)
    for (size_t i = 0; i < c->nx; i++)
      if (c->series[s].y[i] > ymax) ymax = c->series[s].y[i];
  ymax = nice_ceiling(ymax);
  const bool logy = c->log_ymin > 0;
  const double l0 = logy ? floor(log10(c->log_ymin)) : 0, l1 = logy ? ceil(log10(ymax)) : 1;
  const double x0 = log2(c->x[0]), x1 = c->nx > 1 ? log2(c->x[c->nx - 1]) : x0 + 1;
  const double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define PX(v) (LEFT + (log2(v) - x0) / (x1 - x0) * pw)
#define PY(v) (TOP + ph - yfrac(v, logy, ymax, l0, l1) * ph)
  fprintf(f,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
          "font-family=\"sans-serif\" font-size=\"12\">\n"
          "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
          W, H, W, H);
  fprintf(f, "<text x=\"%.0f\" y=\"28\" font-size=\"15\" font-weight=\"bold\">", LEFT);
  text_escaped(f, c->title);
  fputs("</text>\n", f);
  if (c->note) {
    fprintf(f, "<text x=\"%.0f\" y=\"48\" fill=\"#555\">", LEFT);
    text_escaped(f, c->note);
    fputs("</text>\n", f);
  }
  /* grid and y ticks: five steps, or one per decade */
  const int nt = logy ? (int)(l1 - l0) : 5;
  for (int t = 0; t <= nt; t++) {
    double v = logy ? pow(10, l0 + t) : ymax * t / 5, y = PY(v);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", LEFT, y, LEFT + pw, y);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", LEFT - 6, y + 4, v);
  }
  /* x ticks: every x given */
  for (size_t i = 0; i < c->nx; i++) {
    double x = PX(c->x[i]);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", x, TOP, x, TOP + ph);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x, TOP + ph + 18, c->x[i]);
  }
  fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", LEFT, TOP + ph, LEFT + pw,
          TOP + ph);
  fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", LEFT, TOP, LEFT, TOP + ph);
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", LEFT + pw / 2, H - 16);
  text_escaped(f, c->xlabel);
  fputs("</text>\n", f);
  fprintf(f, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">", TOP + ph / 2);
  text_escaped(f, c->ylabel);
  fputs("</text>\n", f);
  for (size_t s = 0; s < c->nseries; s++) {
    const bench_series *se = &c->series[s];
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", se->color,
            se->dashed ? " stroke-dasharray=\"6 4\"" : "");
    for (size_t i = 0; i < c->nx; i++) fprintf(f, "%s%.1f,%.1f", i ? " " : "", PX(c->x[i]), PY(se->y[i]));
    fputs("\"/>\n", f);
    /* each point, with its value as a tooltip */
    for (size_t i = 0; i < c->nx; i++) {
      fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", PX(c->x[i]), PY(se->y[i]),
              se->color);
      text_escaped(f, se->label);
      fprintf(f, ": %g at %g</title></circle>\n", se->y[i], c->x[i]);
    }
    double ly = TOP + 10 + 22.0 * (double)s;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
            LEFT + pw + 16, ly, LEFT + pw + 46, ly, se->color, se->dashed ? " stroke-dasharray=\"6 4\"" : "");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", LEFT + pw + 52, ly + 4);
    text_escaped(f, se->label);
    fputs("</text>\n", f);
  }
  fputs("</svg>\n", f);
#undef PX
#undef PY
  return fclose(f) == 0 ? 0 : -1;
}
