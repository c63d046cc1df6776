/* backend-model/devconfig.h — reading the built-in models' device_config values.
 *
 * Owns: what a "device_config" value of a built-in model may look like (a
 * decimal integer in a range, or true / false) and the one form of the
 * message a model gives for a wrong one: MODEL: device_config "KEY" =
 * "VALUE": expected .... Decimal digits only, with a leading '-' where a
 * negative value is allowed: no blanks, no '+', no hex, so "-1" never
 * becomes 2^64-1 (as strtoull would make it) and " 5" is not 5.
 * Must never: accept a value outside the range it is given, or overflow.
 */
#ifndef VSIM_DEVCONFIG_H
#define VSIM_DEVCONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* Format the message into err (when given) and return -1: the models' error value. */
__attribute__((format(printf, 3, 4))) int vsim_devcfg_fail(char *err, unsigned errlen, const char *fmt, ...);

/* s as a decimal integer in [lo, hi]: true and *out, or false. */
bool vsim_devcfg_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
bool vsim_devcfg_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* The same as an option of `model`: 0, or -1 with the message in err. */
int vsim_devcfg_u64(const char *model, const char *key, const char *val, uint64_t lo, uint64_t hi,
                    uint64_t *out, char *err, unsigned errlen);
int vsim_devcfg_i64(const char *model, const char *key, const char *val, int64_t lo, int64_t hi,
                    int64_t *out, char *err, unsigned errlen);
/* "true" or "false". */
int vsim_devcfg_bool(const char *model, const char *key, const char *val, bool *out, char *err,
                     unsigned errlen);

#endif
