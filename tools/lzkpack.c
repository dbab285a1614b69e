/* SPDX-License-Identifier: MIT */
/* lzkpack.c - build tool: pack a file into the LZK format (vmm/lzk.h),
 * and check that it unpacks to the same bytes.  lzkpack IN OUT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/lzk.h"

int main(int argc, char **argv)
{
	FILE *f;
	uint8_t *in, *out, *back;
	long n;
	size_t m;

	if (argc != 3 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: lzkpack IN OUT\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	in = malloc(n ? n : 1);
	out = malloc(lzk_bound(n));
	back = malloc(n ? n : 1);
	if (!in || !out || !back || fread(in, 1, n, f) != (size_t)n)
		return 1;
	fclose(f);
	m = lzk_pack(in, n, out);
	if (lzk_unpack(out, m, back, n) || memcmp(in, back, n)) {
		fprintf(stderr, "lzkpack: round trip failed\n");
		return 1;
	}
	if (!(f = fopen(argv[2], "wb")) || fwrite(out, 1, m, f) != m || fclose(f))
		return 1;
	return 0;
}
