/* backend-model/devconfig.c — device_config values of the built-in models (see devconfig.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "devconfig.h"

int vsim_devcfg_fail(char *err, unsigned errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

bool vsim_devcfg_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (!s || !*s) return false;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return false;
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool vsim_devcfg_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  if (!s) return false;
  bool neg = s[0] == '-';
  uint64_t mag;
  /* the magnitude of INT64_MIN is INT64_MAX + 1 */
  if (!vsim_devcfg_parse_u64(s + neg, 0, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &mag)) return false;
  int64_t v = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

int vsim_devcfg_u64(const char *model, const char *key, const char *val, uint64_t lo, uint64_t hi,
                    uint64_t *out, char *err, unsigned errlen) {
  if (vsim_devcfg_parse_u64(val, lo, hi, out)) return 0;
  return vsim_devcfg_fail(err, errlen, "%s: device_config \"%s\" = \"%s\": expected a decimal integer in [%llu, %llu]",
                          model, key, val ? val : "(null)", (unsigned long long)lo, (unsigned long long)hi);
}

int vsim_devcfg_i64(const char *model, const char *key, const char *val, int64_t lo, int64_t hi,
                    int64_t *out, char *err, unsigned errlen) {
  if (vsim_devcfg_parse_i64(val, lo, hi, out)) return 0;
  return vsim_devcfg_fail(err, errlen, "%s: device_config \"%s\" = \"%s\": expected a decimal integer in [%lld, %lld]",
                          model, key, val ? val : "(null)", (long long)lo, (long long)hi);
}

int vsim_devcfg_bool(const char *model, const char *key, const char *val, bool *out, char *err,
                     unsigned errlen) {
  if (val && (strcmp(val, "true") == 0 || strcmp(val, "false") == 0)) {
    *out = val[0] == 't';
    return 0;
  }
  return vsim_devcfg_fail(err, errlen, "%s: device_config \"%s\" = \"%s\": expected true or false", model, key,
                          val ? val : "(null)");
}
