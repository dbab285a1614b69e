// SPDX-License-Identifier: MIT
/*
 * fuzz_cli.c - the command line (vmm/cli.c) and the --trace list parser
 * (vmm/trace.c), as a user or a script gets them wrong: the input is split
 * at NUL bytes into argv[1..], at most 16 words.
 *
 * Bad input is answered by die(EXIT_USAGE, ...), which calls exit().  Here
 * exit() is fuzz_exit(), which longjmps back to the harness, so the real
 * die() and its message formatting run too; -h and -V exit(0) the same way.
 *
 * Checks (besides ASan/UBSan): every exit is status 0 (-h, -V) or
 * EXIT_USAGE; the error is one line; an accepted configuration has
 * GUEST_MEM_MIN <= mem <= GUEST_MEM_MAX in whole MiB, every string in it
 * points into argv (or is a default), --vfio-trap-bars comes with --vfio
 * and --initrd with --kernel; cli_parse_size() agrees with a slow model.
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "stubs.h"

static jmp_buf fuzz_jmp;
static int fuzz_code;

__attribute__((noreturn)) static void fuzz_exit(int code)
{
	fuzz_code = code;
	longjmp(fuzz_jmp, 1);
}

#define exit fuzz_exit
#include "../../vmm/cli.c"
#include "../../vmm/trace.c"
#undef exit

/* What cli_parse_size should say, written differently: digits, one unit
 * letter (then an optional "B" or "iB"), nothing else; 0 when malformed or when
 * the value does not fit in 64 bits. */
static uint64_t size_model(const char *s)
{
	unsigned __int128 v = 0;
	unsigned shift = 20;
	size_t i = 0;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > ~0ULL)
			return 0;
	}
	if (s[i] && strchr("kKmMgGtT", s[i])) {
		shift = strchr("kK", s[i])   ? 10
			: strchr("mM", s[i]) ? 20
			: strchr("gG", s[i]) ? 30
					     : 40;
		i++;
		if (!strcmp(s + i, "iB"))
			i += 2;
		else if (!strcmp(s + i, "B"))
			i += 1;
	}
	if (s[i])
		return 0;
	v <<= shift;
	return v > ~0ULL ? 0 : (uint64_t)v;
}

static bool in_args(const char *p, char **argv, int argc)
{
	for (int i = 1; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	char *buf, *argv[18];
	int argc = 1;
	struct config cfg;
	char errbuf[1024];

	if (!once) {
		once = true;
		/* --help prints to stdout: nobody reads it here. */
		if (!freopen("/dev/null", "w", stdout))
			abort();
	}
	if (size > 4096)
		return 0;
	/* Exact-size copy, NUL-terminated, so ASan sees reads past a word. */
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[0] = "kvmini";
	for (size_t i = 0; i < size + 1 && argc < 17;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;

	/* Each word alone through the size parser, against the model. */
	for (int i = 1; i < argc; i++)
		FUZZ_CHECK(cli_parse_size(argv[i]) == size_model(argv[i]),
			   "cli_parse_size agrees with the model");

	/* The errors go to stderr: catch them in a buffer to check them. */
	FILE *saved = stderr, *mem = fmemopen(errbuf, sizeof(errbuf), "w");
	if (!mem)
		abort();
	stderr = mem;
	optind = 0; /* glibc: start getopt afresh */
	trace_mask = 0;
	fuzz_code = -1;
	if (!setjmp(fuzz_jmp)) {
		cli_parse(argc, argv, &cfg);
		fuzz_code = -2; /* accepted */
	}
	fflush(mem);
	size_t elen = (size_t)ftell(mem);
	fclose(mem);
	stderr = saved;
	errbuf[elen < sizeof(errbuf) ? elen : sizeof(errbuf) - 1] = 0;

	if (fuzz_code == -2) {
		FUZZ_CHECK(elen == 0, "an accepted command line prints nothing");
		FUZZ_CHECK(cfg.mem_size >= GUEST_MEM_MIN && cfg.mem_size <= GUEST_MEM_MAX &&
			       !(cfg.mem_size & ((1UL << 20) - 1)),
			   "accepted --mem is in range and whole MiB");
		FUZZ_CHECK(!cfg.vfio_trap_bars || cfg.vfio, "--vfio-trap-bars only with --vfio");
		FUZZ_CHECK(!cfg.initrd || cfg.kernel, "--initrd only with --kernel");
		const char *strs[] = {cfg.kernel, cfg.initrd, cfg.cmdline,
				      cfg.net,	  cfg.vfio,   cfg.report};
		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
			FUZZ_CHECK(!strs[i] || in_args(strs[i], argv, argc) ||
				       !strcmp(strs[i], "") || !strcmp(strs[i], "loopback"),
				   "config strings point into argv or are defaults");
	} else {
		FUZZ_CHECK(fuzz_code == 0 || fuzz_code == EXIT_USAGE,
			   "bad input exits with EXIT_USAGE (or 0 for -h/-V)");
		if (fuzz_code == EXIT_USAGE) {
			FUZZ_CHECK(!strncmp(errbuf, "kvmini: ", 8),
				   "the error starts with kvmini:");
			/* One line: the message's own newline is the last byte,
			 * unless the user's own text carried one. */
			char *nl = strchr(errbuf, '\n');
			bool user_nl = false;
			for (int i = 1; i < argc; i++)
				user_nl |= strchr(argv[i], '\n') != NULL;
			FUZZ_CHECK(nl && (user_nl || nl[1] == 0), "the error is one line");
		}
	}
	free(buf);
	return 0;
}
