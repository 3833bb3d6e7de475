/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * daqsd's control socket protocol, shared by daqsd and daqsctl. No I/O.
 *
 * A client connects to the unix stream socket (/run/daqsd.sock), writes
 * one request line and reads the answer until daqsd closes the connection:
 *
 *   request:  vms LF
 *   answer:   daqsd TAB key=value TAB key=value ... LF      the daemon
 *             vm TAB key=value ... LF                       one per VM
 *             end LF                                        complete
 *   or:       error TAB message=... LF
 *
 * Each line is a record: a kind, then fields separated by TAB. A field is
 * key=value; keys are [a-z0-9_]; a value has every byte below 0x21, above
 * 0x7e, and '%' written as %XX (two upper-case hex digits), so a line never
 * holds a TAB, LF or space of its own. A reader ignores kinds and keys it
 * does not know (new ones are only added) and trusts an answer only when
 * it ends in "end". daqsd(8) lists the keys.
 */
#ifndef DAQS_CTLPROTO_H
#define DAQS_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAQS_CTL_REQUEST_MAX 256	/* a request line, with its LF */
#define DAQS_CTL_ANSWER_MAX (16U << 20)	/* a whole answer */
#define DAQS_CTL_FIELDS_MAX 96		/* fields of one record */

/* ---- writing ---------------------------------------------------------------- */

/* an answer being built; a failed allocation sticks in failed */
struct daqs_ctl_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

void daqs_ctl_begin(struct daqs_ctl_buf *b, const char *kind);
void daqs_ctl_str(struct daqs_ctl_buf *b, const char *key, const char *value);
void daqs_ctl_u64(struct daqs_ctl_buf *b, const char *key, uint64_t value);
void daqs_ctl_bool(struct daqs_ctl_buf *b, const char *key, bool value);
void daqs_ctl_end(struct daqs_ctl_buf *b);
void daqs_ctl_buf_free(struct daqs_ctl_buf *b);

/* ---- reading ------------------------------------------------------------------ */

struct daqs_ctl_field {
	const char *key;
	const char *value;	/* unescaped */
};

struct daqs_ctl_rec {
	const char *kind;
	size_t n;
	struct daqs_ctl_field f[DAQS_CTL_FIELDS_MAX];
};

/*
 * Parses one line (without its LF), in place: the record points into it.
 * Returns 0, or -1 for a line that is not a record (a field without '=',
 * a bad escape, a bad key, too many fields).
 */
int daqs_ctl_parse(char *line, struct daqs_ctl_rec *rec);
/* the value of key, or NULL */
const char *daqs_ctl_get(const struct daqs_ctl_rec *rec, const char *key);
/* the value of key as a decimal u64: 0, or -1 if absent or not a number */
int daqs_ctl_get_u64(const struct daqs_ctl_rec *rec, const char *key,
		     uint64_t *v);

#endif /* DAQS_CTLPROTO_H */
