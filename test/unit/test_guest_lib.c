// SPDX-License-Identifier: MIT
/*
 * test_guest_lib.c - the tiny guest's pure helpers, run on the host:
 * number and IPv4 parsing (the virtio-net test's ip=/peer= options) and
 * the memory functions the guest uses instead of libc's.
 */
// needs: guest/lib.c
#include "tap.h"

#include "../../guest/guest.h"

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
	tap_ok(memcmp("abc", "abd", 3) < 0 && memcmp("abd", "abc", 3) > 0, "memcmp orders");
	tap_eq(strnlen("abcdef", 3), 3, "strnlen bounded");
	tap_ok(strcmp("kvmini", "kvmini") == 0 && strncmp("ip=1", "ip=2", 3) == 0, "strcmp/strncmp");
	tap_ok(strchr("key=value", '=') && *strchr("key=value", '=') == '=' && !strchr("key", '='),
	       "strchr");
	return tap_done();
}
