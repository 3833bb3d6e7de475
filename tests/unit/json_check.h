/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* A strict RFC 8259 validator, so a test can tell that output is JSON. */
#ifndef DAQS_JSON_CHECK_H
#define DAQS_JSON_CHECK_H

#include <stdbool.h>

/* true if s is exactly one JSON value, with optional whitespace around it */
bool json_valid(const char *s);

#endif /* DAQS_JSON_CHECK_H */
