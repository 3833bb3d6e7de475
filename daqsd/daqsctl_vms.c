// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqsctl vms: on the host, asks daqsd over its control socket for every
 * VM it knows (ctlproto.h) and prints them.
 *
 * Pretty: the daemon on one line, then a block per VM of "key value"
 * pairs, every key unique, rates in the units the parser reads:
 *
 *   daqsd v1 policy minimum_guarantee capacity 400Mbit tick 100ms lease 1s vms 2
 *
 *   vm web1 source libvirt connected yes state ready controlled yes
 *     agent "daqs-agent v1" protocol 1 module yes device eth0 device-from agent
 *     demand unsatisfied rate 184Mbit min 150Mbit weight 1
 *     alloc 184Mbit limit 184Mbit fallback 150Mbit pushed 184Mbit ...
 *     vf ens1f0:3 vf-mode guest verify trusted strikes 0 host-rate 183Mbit ...
 *     verify-intervals 60 under-reports 0 over-limits 0 ... cap-errors 0
 *     connects 1 gets 600 sets 130 ... errors 0 timeouts 0 bad-frames 0
 *
 * JSON: {"daqsd":{...},"vms":[{...},...]} with the protocol's keys; rates
 * in bit/s and times in ms as numbers, yes/no as booleans. A field daqsd
 * did not send (a rate not known yet) is left out of both.
 */
#include "daqsctl_cmd.h"
#include "ctlproto.h"
#include "units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define VMS_TIMEOUT_S 5

enum kind { K_WORD, K_STR, K_NUM, K_RATE, K_MS, K_BOOL, K_BP };

struct field {
	const char *key;	/* the protocol's, and JSON's */
	const char *pretty;
	enum kind kind;
	unsigned int group;	/* pretty: a new line when it changes */
};

static const struct field daemon_fields[] = {
	{ "version", "daqsd", K_WORD, 0 },
	{ "config", "config", K_STR, 0 },
	{ "policy", "policy", K_WORD, 0 },
	{ "capacity_bps", "capacity", K_RATE, 0 },
	{ "link", "link", K_WORD, 0 },
	{ "tick_ms", "tick", K_MS, 0 },
	{ "lease_ms", "lease", K_MS, 0 },
	{ "fallback_bps", "fallback", K_RATE, 0 },
	{ "channel_dir", "channel-dir", K_STR, 0 },
	{ "channel_dir_watched", "watched", K_BOOL, 0 },
	{ "ticks", "ticks", K_NUM, 0 },
	{ "tick_lat_timed", "ticks-timed", K_NUM, 0 },
	{ "tick_lat_late", "ticks-late", K_NUM, 0 },
	{ "tick_lat_window_ms", "tick-latency-window", K_MS, 0 },
	{ "tick_lat_n", "tick-latency-n", K_NUM, 0 },
	{ "tick_lat_p50_us", "tick-latency-p50-us", K_NUM, 0 },
	{ "tick_lat_p99_us", "tick-latency-p99-us", K_NUM, 0 },
	{ "tick_lat_max_us", "tick-latency-max-us", K_NUM, 0 },
	{ "verify_interval_ms", "verify-interval", K_MS, 0 },
	{ "verify_tolerance_bp", "verify-tolerance", K_BP, 0 },
	{ "verify_limit_tolerance_bp", "verify-limit-tolerance", K_BP, 0 },
	{ "verify_strikes", "verify-strikes", K_NUM, 0 },
	{ "verify_hold_ms", "verify-hold", K_MS, 0 },
	{ "vf_read_max_us", "vf-read-max-us", K_NUM, 0 },
	{ "vf_stats_hook", "vf-stats-hook", K_STR, 0 },
	{ "vms", "vms", K_NUM, 0 },
};

static const struct field vm_fields[] = {
	{ "name", "vm", K_STR, 0 },
	{ "source", "source", K_WORD, 0 },
	{ "configured", "configured", K_BOOL, 0 },
	{ "connected", "connected", K_BOOL, 0 },
	{ "state", "state", K_WORD, 0 },
	{ "controlled", "controlled", K_BOOL, 0 },
	{ "agent", "agent", K_STR, 1 },
	{ "protocol", "protocol", K_NUM, 1 },
	{ "module", "module", K_BOOL, 1 },
	{ "device", "device", K_STR, 1 },
	{ "device_from", "device-from", K_WORD, 1 },
	{ "socket", "socket", K_STR, 1 },
	{ "demand", "demand", K_WORD, 2 },
	{ "demand_bps", "demand-rate", K_RATE, 2 },
	{ "rate_bps", "rate", K_RATE, 2 },
	{ "min_bps", "min", K_RATE, 2 },
	{ "max_bps", "max", K_RATE, 2 },
	{ "weight", "weight", K_NUM, 2 },
	{ "alloc_bps", "alloc", K_RATE, 3 },
	{ "limit_bps", "limit", K_RATE, 3 },
	{ "fallback_bps", "fallback", K_RATE, 3 },
	{ "pushed_bps", "pushed", K_RATE, 3 },
	{ "pushed_ms_ago", "pushed-ago", K_MS, 3 },
	{ "in_force_bps", "in-force", K_RATE, 3 },
	{ "lease_state", "lease-state", K_WORD, 3 },
	{ "lease_left_ms", "lease-left", K_MS, 3 },
	{ "vf", "vf", K_WORD, 4 },
	{ "vf_mode", "vf-mode", K_WORD, 4 },
	{ "verify", "verify", K_WORD, 4 },
	{ "verify_reason", "verify-reason", K_WORD, 4 },
	{ "verify_strikes", "strikes", K_NUM, 4 },
	{ "host_tx_bytes", "host-tx-bytes", K_NUM, 4 },
	{ "host_rate_bps", "host-rate", K_RATE, 4 },
	{ "reported_rate_bps", "reported-rate", K_RATE, 4 },
	{ "cap_bps", "cap", K_RATE, 4 },
	{ "cap_want_bps", "cap-want", K_RATE, 4 },
	{ "vf_stats_hooked", "vf-stats-hooked", K_BOOL, 4 },
	{ "verify_intervals", "verify-intervals", K_NUM, 5 },
	{ "under_reports", "under-reports", K_NUM, 5 },
	{ "silent_intervals", "silent-intervals", K_NUM, 5 },
	{ "over_limits", "over-limits", K_NUM, 5 },
	{ "untrusted_times", "untrusted-times", K_NUM, 5 },
	{ "host_resets", "host-resets", K_NUM, 5 },
	{ "cap_sets", "cap-sets", K_NUM, 5 },
	{ "cap_errors", "cap-errors", K_NUM, 5 },
	{ "connects", "connects", K_NUM, 6 },
	{ "gets", "gets", K_NUM, 6 },
	{ "sets", "sets", K_NUM, 6 },
	{ "samples", "samples", K_NUM, 6 },
	{ "counter_resets", "counter-resets", K_NUM, 6 },
	{ "errors", "errors", K_NUM, 6 },
	{ "set_errors", "set-errors", K_NUM, 6 },
	{ "timeouts", "timeouts", K_NUM, 6 },
	{ "stalls", "stalls", K_NUM, 6 },
	{ "stale", "stale", K_NUM, 6 },
	{ "bad_frames", "bad-frames", K_NUM, 6 },
	{ "skipped_bytes", "skipped-bytes", K_NUM, 6 },
	{ "events", "events", K_NUM, 6 },
	{ "lease_expired", "lease-expired", K_NUM, 6 },
	{ "out_full", "out-full", K_NUM, 6 },
	{ "throttled", "throttled", K_NUM, 6 },
	{ "rx_bytes", "rx-bytes", K_NUM, 6 },
	{ "last_error", "last-error", K_STR, 7 },
	{ "vf_error", "vf-error", K_STR, 7 },
	{ "cap_error", "cap-error", K_STR, 7 },
};

/* a word as is; anything with a space or a quote in double quotes */
static void pretty_string(FILE *f, const char *s)
{
	const unsigned char *p;

	if (*s && !strpbrk(s, " \t\"\\")) {
		for (p = (const unsigned char *)s; *p; p++)
			fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else
			fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
	}
	fputc('"', f);
}

static const struct field *known(const struct field *t, size_t n,
				 const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].key, key))
			return &t[i];
	return NULL;
}

static void json_value(FILE *f, const struct daqs_ctl_rec *r,
		       const struct field *fd, const char *v)
{
	uint64_t x;

	if (fd && (fd->kind == K_NUM || fd->kind == K_RATE || fd->kind == K_MS ||
		   fd->kind == K_BP) &&
	    !daqs_ctl_get_u64(r, fd->key, &x))
		fprintf(f, "%llu", (unsigned long long)x);
	else if (fd && fd->kind == K_BOOL && (!strcmp(v, "yes") || !strcmp(v, "no")))
		fputs(v[0] == 'y' ? "true" : "false", f);
	else
		daqsctl_json_string(f, v);
}

/* every field, the unknown ones too (as strings) */
static void json_record(FILE *f, const struct daqs_ctl_rec *r,
			const struct field *t, size_t n)
{
	size_t i;

	fputc('{', f);
	for (i = 0; i < r->n; i++) {
		if (i)
			fputc(',', f);
		daqsctl_json_string(f, r->f[i].key);
		fputc(':', f);
		json_value(f, r, known(t, n, r->f[i].key), r->f[i].value);
	}
	fputc('}', f);
}

/* 1/10000 as a percentage: 500 "5%", 250 "2.5%", 25 "0.25%" */
static const char *percent(char *buf, size_t len, uint64_t bp)
{
	if (bp % 100 == 0)
		snprintf(buf, len, "%llu%%", (unsigned long long)(bp / 100));
	else if (bp % 10 == 0)
		snprintf(buf, len, "%llu.%llu%%", (unsigned long long)(bp / 100),
			 (unsigned long long)(bp % 100 / 10));
	else
		snprintf(buf, len, "%llu.%02llu%%", (unsigned long long)(bp / 100),
			 (unsigned long long)(bp % 100));
	return buf;
}

/* the known fields, in the table's order */
static void pretty_record(FILE *f, const struct daqs_ctl_rec *r,
			  const struct field *t, size_t n)
{
	char buf[DAQS_FMT_LEN];
	unsigned int group = 0;
	bool first = true;
	const char *v;
	uint64_t x;
	size_t i;

	for (i = 0; i < n; i++) {
		v = daqs_ctl_get(r, t[i].key);
		if (!v)
			continue;
		if (first)
			first = false;
		else
			fputs(t[i].group != group ? "\n  " : " ", f);
		group = t[i].group;
		fprintf(f, "%s ", t[i].pretty);
		if (t[i].kind == K_RATE && !daqs_ctl_get_u64(r, t[i].key, &x))
			fputs(daqs_format_rate(buf, sizeof(buf), x), f);
		else if (t[i].kind == K_BP && !daqs_ctl_get_u64(r, t[i].key, &x))
			fputs(percent(buf, sizeof(buf), x), f);
		else if (t[i].kind == K_MS && !daqs_ctl_get_u64(r, t[i].key, &x))
			fputs(daqs_format_time(buf, sizeof(buf),
					       x > UINT32_MAX ? UINT32_MAX : (uint32_t)x,
					       1000000U), f);
		else
			pretty_string(f, v);
	}
	fputc('\n', f);
}

/* the whole answer, in place; 0, or -1 with err */
static int print_answer(FILE *f, char *answer, bool json, char *err,
			size_t errlen)
{
	struct daqs_ctl_rec r;
	char *line, *next;
	bool done = false, any_vm = false, daemon = false;

	if (json)
		fputc('{', f);
	for (line = answer; line && *line && !done; line = next) {
		next = strchr(line, '\n');
		if (!next) {
			snprintf(err, errlen, "daqsd's answer was cut short");
			return -1;
		}
		*next++ = '\0';
		if (daqs_ctl_parse(line, &r)) {
			snprintf(err, errlen, "daqsd's answer is not understood: '%.60s'",
				 line);
			return -1;
		}
		if (!strcmp(r.kind, "error")) {
			snprintf(err, errlen, "daqsd says: %s",
				 daqs_ctl_get(&r, "message") ?
				 daqs_ctl_get(&r, "message") : "error");
			return -1;
		}
		/* the daemon's record comes once, before any VM and the end:
		 * the JSON object is built around it */
		if (!strcmp(r.kind, "daqsd") && daemon) {
			snprintf(err, errlen, "daqsd's answer has two daqsd records");
			return -1;
		}
		if ((!strcmp(r.kind, "vm") || !strcmp(r.kind, "end")) && !daemon) {
			snprintf(err, errlen, "daqsd's answer has a %s record before its daqsd record",
				 r.kind);
			return -1;
		}
		if (!strcmp(r.kind, "end")) {
			done = true;
		} else if (!strcmp(r.kind, "daqsd")) {
			daemon = true;
			if (json) {
				fputs("\"daqsd\":", f);
				json_record(f, &r, daemon_fields,
					    ARRAY_SIZE(daemon_fields));
				fputs(",\"vms\":[", f);
			} else {
				pretty_record(f, &r, daemon_fields,
					      ARRAY_SIZE(daemon_fields));
			}
		} else if (!strcmp(r.kind, "vm")) {
			if (json) {
				if (any_vm)
					fputc(',', f);
				json_record(f, &r, vm_fields, ARRAY_SIZE(vm_fields));
			} else {
				fputc('\n', f);
				pretty_record(f, &r, vm_fields, ARRAY_SIZE(vm_fields));
			}
			any_vm = true;
		}
		/* other kinds: from a newer daqsd, not ours to show */
	}
	if (!done) {
		snprintf(err, errlen, "daqsd's answer was cut short");
		return -1;
	}
	if (json)
		fputs("]}\n", f);
	return 0;
}

/* the answer to "vms", NUL-terminated; 0, or -1 with err */
static int fetch(const char *path, char **out, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = VMS_TIMEOUT_S };
	size_t len = 0, cap = 0;
	char *buf = NULL, *nb;
	ssize_t n;
	int fd, e;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "Unable to create a socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		e = errno;
		snprintf(err, errlen, "Unable to connect to daqsd at %s: %s%s", path,
			 strerror(e), e == ENOENT || e == ECONNREFUSED ?
			 " (is daqsd running?)" : "");
		close(fd);
		return -1;
	}
	if (send(fd, "vms\n", 4, MSG_NOSIGNAL) != 4) {
		snprintf(err, errlen, "Unable to ask daqsd at %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap ? 2 * cap : 16384;
			if (cap > DAQS_CTL_ANSWER_MAX + 1)
				cap = DAQS_CTL_ANSWER_MAX + 1;
			if (len + 1 >= cap) {
				snprintf(err, errlen, "daqsd's answer is larger than %u bytes",
					 DAQS_CTL_ANSWER_MAX);
				goto fail;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, errlen, "%s", strerror(ENOMEM));
				goto fail;
			}
			buf = nb;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (!n)
			break;
		if (errno == EINTR)
			continue;
		snprintf(err, errlen, "Unable to read daqsd's answer: %s",
			 errno == EAGAIN ? "timed out" : strerror(errno));
		goto fail;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
fail:
	close(fd);
	free(buf);
	return -1;
}

int daqsctl_cmd_vms(int argc, char **argv, const struct daqsctl_opts *opts)
{
	char err[DAQSCTL_ERRLEN];
	struct daqs_vms_req req;
	char *answer = NULL, *text = NULL;
	size_t text_len = 0;
	FILE *m;
	int ret, status = 1;

	ret = daqsctl_parse_vms(argc, argv, &req, err, sizeof(err));
	if (ret) {
		daqsctl_parse_failed(ret, "vms", err);
		return 1;
	}
	if (fetch(req.socket, &answer, err, sizeof(err)))
		goto fail;
	/* all or nothing on stdout: a cut-off answer prints no half JSON */
	m = open_memstream(&text, &text_len);
	if (!m) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		goto fail;
	}
	ret = print_answer(m, answer, opts->json || req.json, err, sizeof(err));
	if (fclose(m) && !ret) {
		snprintf(err, sizeof(err), "%s", strerror(ENOMEM));
		ret = -1;
	}
	if (ret)
		goto fail;
	if (fwrite(text, 1, text_len, stdout) != text_len || fflush(stdout)) {
		fprintf(stderr, DAQSCTL_PROG ": Unable to write output\n");
		goto out;
	}
	status = 0;
	goto out;
fail:
	fprintf(stderr, DAQSCTL_PROG ": %s\n", err);
out:
	free(text);
	free(answer);
	return status;
}
