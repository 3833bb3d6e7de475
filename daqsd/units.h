/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Parsing and printing of the numbers a person types or reads: rates, sizes,
 * times and MAC addresses. Shared by the daqs userspace programs; no I/O, no
 * netlink, so every rule here is unit-tested on its own.
 *
 * Grammar (no spaces, no sign):  DIGITS [ "." DIGITS ] [ UNIT ]
 * Units are matched without regard to case. A value is accepted only if it
 * is a whole number of the result's resolution (1 bit/s, 1 byte, or the
 * caller's time unit); "1.5mbit" is fine, "1.5bit" is not.
 *
 * Return values: 0, or
 *   -EINVAL  not a number with a known unit
 *   -ERANGE  does not fit in 64 bits
 *   -EDOM    finer than the resolution (e.g. "1500us" as whole milliseconds)
 */
#ifndef DAQS_UNITS_H
#define DAQS_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Rates, in bit/s. Decimal SI multiples as in tc: bit kbit mbit gbit tbit
 * (1kbit = 1000 bit/s); bps kbps mbps gbps tbps are BYTES per second
 * (1bps = 8 bit/s). A bare number is bit/s.
 */
int daqs_parse_rate(const char *s, uint64_t *bit_per_s);

/*
 * Sizes, in bytes. Binary multiples as in tc: b, k kb kib (1024), m mb mib,
 * g gb gib. A bare number is bytes.
 */
int daqs_parse_size(const char *s, uint64_t *bytes);

/*
 * Times: s ms us ns (also sec msec usec nsec). A unit is required, except
 * for a plain 0: tc reads a bare number as microseconds, sleep(1) as
 * seconds, so any choice would surprise someone. The result is in units of unit_ns nanoseconds (1000 for
 * microseconds, 1000000 for milliseconds) and must be a whole number of them.
 */
int daqs_parse_time(const char *s, uint64_t unit_ns, uint64_t *out);

/* Exactly six colon-separated pairs of hex digits: 52:54:00:12:34:56. */
int daqs_parse_mac(const char *s, uint8_t mac[6]);

/*
 * Printers. Each output parses back to the same value with the matching
 * parser. They write at most len bytes including the NUL and return buf.
 *   rate: largest of bit Kbit Mbit Gbit Tbit that is not above the value,
 *         with an exact decimal fraction: 200Mbit, 1.5Mbit, 999bit
 *   size: largest of GiB MiB KiB that divides the value, else B: 64KiB, 1000B
 *   time: largest of s ms us not above the value, exact fraction: 1.5s, 50ms
 */
#define DAQS_FMT_LEN 48
char *daqs_format_rate(char *buf, size_t len, uint64_t bit_per_s);
char *daqs_format_size(char *buf, size_t len, uint64_t bytes);
char *daqs_format_time(char *buf, size_t len, uint32_t value, uint32_t unit_ns);
char *daqs_format_mac(char *buf, size_t len, const uint8_t mac[6]);

#endif /* DAQS_UNITS_H */
