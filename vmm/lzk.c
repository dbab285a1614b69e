/* SPDX-License-Identifier: MIT */
/*
 * lzk.c - pack and unpack the LZK format (lzk.h).  kvmini itself only calls
 * lzk_unpack(); --gc-sections drops the packer from the binary, which the
 * build tool (tools/lzkpack.c) and the unit test use.
 */
#include "lzk.h"

#include <string.h>

#define MIN_MATCH 3
#define MAX_MATCH (0x3f + MIN_MATCH)
#define MAX_LIT	  0x80
#define WINDOW	  0xffff
#define HASH_BITS 13
#define CHAIN	  256 /* candidates tried per position: build time only */

size_t lzk_size(const uint8_t *in, size_t in_len)
{
	if (in_len < LZK_HDR || memcmp(in, "LZK1", 4))
		return 0;
	return (size_t)in[4] | (size_t)in[5] << 8 | (size_t)in[6] << 16 | (size_t)in[7] << 24;
}

int lzk_unpack(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	size_t i = LZK_HDR, o = 0;

	if (lzk_size(in, in_len) != out_len)
		return -1;
	while (i < in_len) {
		uint8_t c = in[i++];

		if (c < 0x80) {
			size_t n = (size_t)c + 1;

			if (n > in_len - i || n > out_len - o)
				return -1;
			memcpy(out + o, in + i, n);
			i += n;
			o += n;
		} else {
			size_t n = (size_t)(c & 0x3f) + MIN_MATCH, off, ob = c & 0x40 ? 2 : 1;

			if (in_len - i < ob)
				return -1;
			off =
			    ob == 2 ? ((size_t)in[i] | (size_t)in[i + 1] << 8) : (size_t)in[i] + 1;
			i += ob;
			if (off == 0 || off > o || n > out_len - o)
				return -1;
			for (size_t k = 0; k < n; k++, o++) /* byte by byte: may overlap */
				out[o] = out[o - off];
		}
	}
	return o == out_len ? 0 : -1;
}

size_t lzk_bound(size_t in_len)
{
	return LZK_HDR + in_len + in_len / MAX_LIT + 1;
}

static unsigned hash3(const uint8_t *p)
{
	return ((unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2]) * 2654435761u >>
	       (32 - HASH_BITS);
}

static size_t flush_lits(const uint8_t *lit, size_t n, uint8_t *out)
{
	size_t w = 0;

	while (n) {
		size_t k = n < MAX_LIT ? n : MAX_LIT;

		out[w++] = (uint8_t)(k - 1);
		memcpy(out + w, lit, k);
		w += k;
		lit += k;
		n -= k;
	}
	return w;
}

/* Greedy, with hash chains over a 64 KiB window: slow and simple, which is
 * fine for a build step on a 50 KB image. */
size_t lzk_pack(const uint8_t *in, size_t in_len, uint8_t *out)
{
	static int head[1 << HASH_BITS];
	static int prev[WINDOW + 1];
	size_t w = LZK_HDR, i = 0, lit = 0;

	memcpy(out, "LZK1", 4);
	for (int k = 0; k < 4; k++)
		out[4 + k] = (uint8_t)(in_len >> (8 * k));
	for (size_t k = 0; k < sizeof(head) / sizeof(head[0]); k++)
		head[k] = -1;
	while (i < in_len) {
		size_t best = 0, best_off = 0;
		int matched = 0;

		if (in_len - i >= MIN_MATCH) {
			unsigned h = hash3(in + i);
			int cand = head[h];

			for (int tries = 0; cand >= 0 && tries < CHAIN; tries++) {
				size_t off = i - (size_t)cand, n = 0;

				if (off > WINDOW)
					break;
				while (n < MAX_MATCH && i + n < in_len && in[cand + n] == in[i + n])
					n++;
				/* A far copy costs a byte more: prefer a near one. */
				if (n > best + (off > 256 && best_off && best_off <= 256))
					best = n, best_off = off;
				cand = prev[cand & WINDOW];
			}
		}
		if (best >= MIN_MATCH + (best_off > 256)) {
			w += flush_lits(in + lit, i - lit, out + w);
			if (best_off <= 256) {
				out[w++] = (uint8_t)(0x80 | (best - MIN_MATCH));
				out[w++] = (uint8_t)(best_off - 1);
			} else {
				out[w++] = (uint8_t)(0xc0 | (best - MIN_MATCH));
				out[w++] = (uint8_t)best_off;
				out[w++] = (uint8_t)(best_off >> 8);
			}
			matched = 1;
		} else {
			best = 1;
		}
		for (size_t k = 0; k < best; k++, i++) {
			if (in_len - i >= MIN_MATCH) {
				unsigned h = hash3(in + i);

				prev[i & WINDOW] = head[h];
				head[h] = (int)i;
			}
		}
		if (matched)
			lit = i;
	}
	w += flush_lits(in + lit, i - lit, out + w);
	return w;
}
