// SPDX-License-Identifier: MIT
/*
 * test_command_line.c - what kvmini says to a command line it cannot take
 * (vmm/cli.c): the word the user typed, and for QEMU's spellings kvmini's
 * own; a mistyped subcommand by name; values that look like options taken
 * as values.
 *
 * cli.c and trace.c are included with exit() replaced by a longjmp back
 * here (as test/fuzz/fuzz_cli.c does), so the real die() runs and its one
 * line is read back from stderr.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static jmp_buf jmp;
static int exit_code;

__attribute__((noreturn)) static void test_exit(int code)
{
	exit_code = code;
	longjmp(jmp, 1);
}

#define exit test_exit
#include "../../vmm/cli.c"
#include "../../vmm/trace.c"
#undef exit

#include "tap.h"

static char said[1024]; /* what kvmini printed on stderr */

static int run_parse(int argc, char **argv, struct config *cfg)
{
	if (setjmp(jmp))
		return exit_code;
	cli_parse(argc, argv, cfg);
	return -1;
}

/* Parse "kvmini WORDS..." (words split at spaces); returns the exit code,
 * or -1 when cli_parse returned (the line was taken). */
static int parse(const char *line, struct config *cfg)
{
	static char buf[512];
	char *argv[32] = {"kvmini"};
	int argc = 1, saved = dup(2);
	FILE *cap = tmpfile();
	int rc;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok(buf, " "); w && argc < 31; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	optind = 1; /* a fresh getopt for each line (musl and glibc) */
	fflush(stdout);
	fflush(stderr);
	if (!cap || saved < 0 || dup2(fileno(cap), 2) < 0)
		abort();
	rc = run_parse(argc, argv, cfg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	size_t n = fread(said, 1, sizeof(said) - 1, cap);
	said[n] = 0;
	fclose(cap);
	return rc;
}

static void refused(const char *line, const char *want)
{
	struct config cfg;
	int rc = parse(line, &cfg);
	unsigned lines = 0;

	for (const char *p = said; *p; p++)
		lines += *p == '\n';
	tap_ok(rc == EXIT_USAGE && lines == 1 && strstr(said, want) != NULL,
	       "kvmini %s: exit 2, one line saying \"%s\" (got %d: %s)", line, want, rc,
	       strtok(said, "\n") ? said : "");
}

int main(void)
{
	struct config cfg;

	/* QEMU's spellings: the option typed is named, with kvmini's. */
	refused("-kernel build/guest.elf", "unknown option '-kernel' (QEMU's spelling): kvmini's is --kernel");
	refused("-initrd x", "'-initrd' (QEMU's spelling): kvmini's is --initrd");
	refused("-append console=ttyS0", "'-append' (QEMU's spelling): kvmini's is --cmdline");
	refused("-m 2G", "'-m' (QEMU's spelling): kvmini's is --mem");
	refused("-smp 2", "'-smp' (QEMU's spelling): kvmini's is --cpus");
	refused("--net none -nographic", "unknown option '-nographic' (QEMU's): kvmini has no display");
	refused("-enable-kvm", "unknown option '-enable-kvm'");
	/* Not the program's name, whatever comes before (the old argv[optind-1]). */
	refused("--stats -kernel x", "'-kernel'");
	/* A long option with one dash, or mistyped. */
	refused("-mem 64M", "unknown option '-mem': kvmini's options start with --: did you mean --mem?");
	refused("--kernal x", "unknown option '--kernal': did you mean --kernel?");
	refused("--no-such-option", "unknown option '--no-such-option': see kvmini --help");
	refused("-x", "unknown option '-x': see kvmini --help");
	refused("--vfio-", "option '--vfio-' is the start of several");
	refused("--kernel", "option '--kernel' needs a value");
	/* Subcommands and stray words. */
	refused("chek", "unknown subcommand 'chek' (did you mean check?)");
	refused("chekc --net none", "unknown subcommand 'chekc' (did you mean check?)");
	refused("frobnicate", "unknown subcommand 'frobnicate': the only one is check");
	refused("/", "unknown subcommand '/' (the only one is check): to boot it, give --kernel /");
	refused("--net none stray", "unexpected argument 'stray'");
	refused("check stray", "unexpected argument 'stray'");

	/* Values that look like options are values. */
	tap_ok(parse("--cmdline -append", &cfg) == -1 && !strcmp(cfg.cmdline, "-append"),
	       "--cmdline -append: the value is the command line (%s)", said);
	tap_ok(parse("--cmdline=-m --stats", &cfg) == -1 && !strcmp(cfg.cmdline, "-m") && cfg.stats,
	       "--cmdline=-m --stats: taken (%s)", said);
	tap_ok(parse("--cmd -kernel", &cfg) == -1 && !strcmp(cfg.cmdline, "-kernel"),
	       "--cmd -kernel (an abbreviation, as getopt_long takes it): the value (%s)", said);
	tap_ok(parse("check --net none", &cfg) == -1 && cfg.check && !strcmp(cfg.net, "none"),
	       "check --net none: taken (%s)", said);
	tap_ok(parse("--report - --stats", &cfg) == -1 && !strcmp(cfg.report, "-"),
	       "--report -: '-' is a value, not an option (%s)", said);
	return tap_done();
}
