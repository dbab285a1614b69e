// SPDX-License-Identifier: MIT
// needs: vmm/lzk.c
/*
 * test_lzk.c - the packed format of the embedded guest (vmm/lzk.h): what
 * lzk_pack() writes lzk_unpack() gives back byte for byte (text, runs,
 * incompressible bytes, near and far copies); a stream that is corrupt in
 * any way the decoder can see (magic, size, truncation, a copy from before
 * the start of the output, more output than promised) is refused, never
 * read or written out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/lzk.h"
#include "tap.h"

static int round_trip(const uint8_t *in, size_t n, size_t *packed)
{
	uint8_t *p = malloc(lzk_bound(n)), *back = malloc(n ? n : 1);
	size_t m = lzk_pack(in, n, p);
	int ok = lzk_size(p, m) == n && lzk_unpack(p, m, back, n) == 0 && !memcmp(in, back, n);

	if (packed)
		*packed = m;
	free(p);
	free(back);
	return ok;
}

int main(void)
{
	static uint8_t buf[200000];
	size_t m;
	uint32_t x = 12345;

	tap_ok(round_trip((const uint8_t *)"", 0, &m) && m == LZK_HDR, "empty input: header only");
	tap_ok(round_trip((const uint8_t *)"ab", 2, NULL), "two bytes: literals only");

	memset(buf, 0, 100000);
	int ok = round_trip(buf, 100000, &m);
	tap_ok(ok && m < 100000 / 20, "100000 zeros round-trip, packed to %zu", m);

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
	ok = round_trip(buf, sizeof(buf), &m);
	tap_ok(ok && m <= lzk_bound(sizeof(buf)),
	       "200000 random bytes round-trip within the bound (%zu)", m);

	/* Text with repeats near (under 256 bytes back) and far (64 KiB). */
	size_t n = 0;
	while (n + 64 < 150000) {
		n += (size_t)sprintf((char *)buf + n, "kvmini: check %zu passed: line %zu\n",
				     n % 97, n / 7);
		if (n > 70000 && n < 70100)
			memcpy(buf + n, buf + 10, 40), n += 40;
	}
	ok = round_trip(buf, n, &m);
	tap_ok(ok && m < n / 2, "%zu bytes of text round-trip, packed to %zu", n, m);

	/* Corrupt streams. */
	uint8_t out[64];
	uint8_t good[] = {'L', 'Z', 'K', '1', 6, 0, 0, 0, 1, 'a', 'b', 0x81, 1};
	tap_ok(lzk_unpack(good, sizeof(good), out, 6) == 0 && !memcmp(out, "ababab", 6),
	       "hand-made stream: 2 literals, then an overlapping copy of 4 at offset 2");
	uint8_t bad_magic[sizeof(good)];
	memcpy(bad_magic, good, sizeof(good));
	bad_magic[3] = '2';
	tap_ok(lzk_size(bad_magic, sizeof(good)) == 0 &&
		   lzk_unpack(bad_magic, sizeof(good), out, 6),
	       "wrong magic: refused");
	tap_ok(lzk_unpack(good, sizeof(good), out, 5) != 0,
	       "output size other than the header's: refused");
	tap_ok(lzk_unpack(good, sizeof(good) - 1, out, 6) != 0,
	       "copy token without its offset: refused");
	tap_ok(lzk_unpack(good, 10, out, 6) != 0, "truncated literal run: refused");
	uint8_t far[] = {'L', 'Z', 'K', '1', 6, 0, 0, 0, 1, 'a', 'b', 0x81, 2};
	tap_ok(lzk_unpack(far, sizeof(far), out, 6) != 0,
	       "copy from before the output's start: refused");
	uint8_t zero[] = {'L', 'Z', 'K', '1', 6, 0, 0, 0, 1, 'a', 'b', 0xc1, 0, 0};
	tap_ok(lzk_unpack(zero, sizeof(zero), out, 6) != 0, "copy at offset 0: refused");
	uint8_t over[] = {'L', 'Z', 'K', '1', 4, 0, 0, 0, 1, 'a', 'b', 0x81, 1};
	tap_ok(lzk_unpack(over, sizeof(over), out, 4) != 0,
	       "more output than the header promised: refused");
	uint8_t short_out[] = {'L', 'Z', 'K', '1', 9, 0, 0, 0, 1, 'a', 'b', 0x81, 1};
	tap_ok(lzk_unpack(short_out, sizeof(short_out), out, 9) != 0,
	       "less output than the header promised: refused");
	return tap_done();
}
