/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the smallest TAP producer for unit tests (one per test program).
 *
 *   #include "tap.h"
 *   int main(void)
 *   {
 *           tap_ok(x == 1, "x is one");
 *           tap_eq(f(2), 4, "f(2)");          // prints both values on failure
 *           return tap_done();                // the plan, and the exit code
 *   }
 *
 * The plan ("1..N") is printed at the end, which TAP allows, so a test
 * never has to count its cases.  tap_done() returns 1 when anything
 * failed, so `return tap_done();` gives prove and make the right status.
 * Everything is static: include it from one .c file only.
 */
#ifndef KVMINI_TAP_H
#define KVMINI_TAP_H

#include <stdarg.h>
#include <stdio.h>

static unsigned tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %u - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/* Compare two integers; on failure say what each was. */
#define tap_eq(got, want, ...)                                                                     \
	do {                                                                                       \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);                   \
		if (!tap_ok(tap_g_ == tap_w_, __VA_ARGS__))                                        \
			printf("#   got %lld (0x%llx), want %lld (0x%llx)\n", tap_g_,               \
			       (unsigned long long)tap_g_, tap_w_, (unsigned long long)tap_w_);    \
	} while (0)

__attribute__((format(printf, 1, 2), unused)) static void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

__attribute__((unused)) static int tap_done(void)
{
	printf("1..%u\n", tap_n);
	if (tap_failed)
		printf("# %u of %u failed\n", tap_failed, tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif
