// SPDX-License-Identifier: MIT
/*
 * test_guest_lib.c - the tiny guest's pure helpers, run on the host:
 * number and IPv4 parsing (the virtio-net test's ip=/peer= options) and
 * the memory functions the guest uses instead of libc's.
 */
// needs: guest/lib.c
#include "tap.h"

#include "../../guest/guest.h"

/* The guest's memset/memcpy/memmove move 8 bytes at a time and the tail
 * byte-wise, forwards or (memmove, destination above source) backwards:
 * every length across a few quadwords, every alignment of both ends and
 * every overlap, against byte loops, with guard bytes around. */
static bool string_ops_match_bytes(void)
{
	/* Called through pointers: the compiler would otherwise put its own
	 * inline string code in place of calls to functions it knows. */
	void *(*volatile set)(void *, int, size_t) = memset;
	void *(*volatile cpy)(void *, const void *, size_t) = memcpy;
	void *(*volatile move)(void *, const void *, size_t) = memmove;
	static uint8_t a[192], b[192];

	for (size_t n = 0; n < 68; n++)
		for (size_t d = 0; d < 9; d++)
			for (size_t s = 0; s < 9; s++) {
				for (size_t i = 0; i < sizeof(a); i++)
					a[i] = b[i] = (uint8_t)(i * 13 + 1);
				set(a + 16 + d, 0xa5, n);
				for (size_t i = 0; i < n; i++)
					b[16 + d + i] = 0xa5;
				if (memcmp(a, b, sizeof(a)))
					return false;
				cpy(a + 16 + d, a + 90 + s, n);
				for (size_t i = 0; i < n; i++)
					b[16 + d + i] = b[90 + s + i];
				if (memcmp(a, b, sizeof(a)))
					return false;
				/* Overlapping both ways: destination d - s bytes
				 * off the source (negative: below it). */
				uint8_t tmp[80];
				for (size_t i = 0; i < n; i++)
					tmp[i] = b[40 + s + i];
				move(a + 40 + d, a + 40 + s, n);
				for (size_t i = 0; i < n; i++)
					b[40 + d + i] = tmp[i];
				if (memcmp(a, b, sizeof(a)))
					return false;
			}
	return true;
}

int main(void)
{
	const char *end;
	uint32_t ip = 0;
	char buf[32];

	tap_eq(strtou64("1234 rest", &end), 1234, "strtou64 decimal");
	tap_ok(*end == ' ', "strtou64 stops at the first non-digit");
	tap_eq(strtou64("0x1F", &end), 0x1f, "strtou64 hex, upper case");
	tap_eq(strtou64("0xfee00000", NULL), 0xfee00000u, "strtou64 32-bit hex");
	tap_eq(strtou64("", &end), 0, "strtou64 empty string is 0");

	tap_ok(parse_ipv4("169.254.0.2", &ip) && ip == 0xa9fe0002u, "parse_ipv4 169.254.0.2");
	tap_ok(parse_ipv4("10.0.0.1 peer=x", &ip) && ip == 0x0a000001u, "parse_ipv4 stops at a space");
	tap_ok(parse_ipv4("1.2.3.4:80", &ip) && ip == 0x01020304u, "parse_ipv4 stops at a port");
	tap_ok(!parse_ipv4("256.1.1.1", &ip), "parse_ipv4 rejects 256");
	tap_ok(!parse_ipv4("1.2.3", &ip), "parse_ipv4 rejects three parts");
	tap_ok(!parse_ipv4("1.2.3.4.5", &ip), "parse_ipv4 rejects five parts");
	tap_ok(!parse_ipv4("a.b.c.d", &ip), "parse_ipv4 rejects letters");
	tap_ok(!parse_ipv4("0001.2.3.4", &ip), "parse_ipv4 rejects four-digit parts");

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "abcdef", 7);
	memmove(buf + 2, buf, 6); /* overlapping, forward */
	tap_ok(!memcmp(buf, "ababcdef", 8), "memmove forward overlap");
	memmove(buf, buf + 2, 6); /* overlapping, backward */
	tap_ok(!memcmp(buf, "abcdefef", 8), "memmove backward overlap");
	tap_ok(string_ops_match_bytes(), "memset/memcpy/memmove (word-wide string instructions) "
					  "match a byte loop for every length 0-67 and alignment, "
					  "touching nothing outside");
	tap_ok(memcmp("abc", "abd", 3) < 0 && memcmp("abd", "abc", 3) > 0, "memcmp orders");
	tap_eq(strnlen("abcdef", 3), 3, "strnlen bounded");
	tap_ok(strcmp("kvmini", "kvmini") == 0 && strncmp("ip=1", "ip=2", 3) == 0, "strcmp/strncmp");
	tap_ok(strchr("key=value", '=') && *strchr("key=value", '=') == '=' && !strchr("key", '='),
	       "strchr");
	return tap_done();
}
