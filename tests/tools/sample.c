// SPDX-License-Identifier: GPL-2.0
/*
 * sample - read counter files at a fixed interval, for tests and benchmarks.
 *
 *   sample [-e] INTERVAL_MS COUNT FILE...
 *
 * Prints one line per sample: CLOCK_MONOTONIC in ns, then the first word of
 * each FILE. With -e, two times open the line: before the first file was
 * read and after the last, so a bound computed from them holds even when
 * the sampler was preempted between reading the clock and the files (a busy
 * host stalls a vCPU for milliseconds). Sampling is paced on absolute
 * deadlines, so a late wakeup does not shift the following samples. A
 * shell loop forking cat cannot do this at 10 ms under an emulator.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void read_word(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n <= 0) {
		strcpy(buf, "-");
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, " \n")] = '\0';
}

int main(int argc, char **argv)
{
	struct timespec next;
	long interval_ms, count;
	int nfiles, *fds, i, both = 0;
	char word[64];

	if (argc > 1 && !strcmp(argv[1], "-e")) {
		both = 1;
		argv++;
		argc--;
	}
	nfiles = argc - 3;
	if (argc < 4) {
		fprintf(stderr, "usage: sample [-e] INTERVAL_MS COUNT FILE...\n");
		return 2;
	}
	interval_ms = strtol(argv[1], NULL, 10);
	count = strtol(argv[2], NULL, 10);
	if (interval_ms <= 0 || count <= 0) {
		fprintf(stderr, "sample: invalid interval '%s' or count '%s'\n",
			argv[1], argv[2]);
		return 2;
	}
	fds = calloc(nfiles, sizeof(*fds));
	if (!fds)
		return 1;
	for (i = 0; i < nfiles; i++) {
		fds[i] = open(argv[3 + i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			fprintf(stderr, "sample: cannot open '%s': %s\n",
				argv[3 + i], strerror(errno));
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (count--) {
		long long pre = now_ns();
		char line[64 * 16] = "";
		size_t off = 0;

		for (i = 0; i < nfiles; i++) {
			read_word(fds[i], word, sizeof(word));
			if (off < sizeof(line))
				off += snprintf(line + off, sizeof(line) - off,
						" %s", word);
		}
		if (both)
			printf("%lld %lld%s\n", pre, now_ns(), line);
		else
			printf("%lld%s\n", pre, line);
		next.tv_nsec += interval_ms * 1000000L;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	fflush(stdout);
	for (i = 0; i < nfiles; i++)
		close(fds[i]);
	free(fds);
	return 0;
}
