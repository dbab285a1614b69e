/* SPDX-License-Identifier: MIT */
/*
 * lzk.h - the byte format kvmini's embedded guest is stored in: a small
 * LZ77 of our own, so the binary carries the guest in about half the room
 * with a decoder of a few dozen lines.
 *
 * Stream: "LZK1", the unpacked size (u32, little-endian), then tokens.  A
 * token byte c < 0x80 is followed by c + 1 literal bytes; c >= 0x80 is a
 * copy of (c & 0x3f) + 3 bytes from offset o back in the output: for
 * 0x80-0xbf one byte follows, o = byte + 1 (1-256); for 0xc0-0xff a u16
 * little-endian follows, o = u16 (1-65535).  Copies may overlap their own
 * output (runs).
 */
#ifndef KVMINI_LZK_H
#define KVMINI_LZK_H

#include <stddef.h>
#include <stdint.h>

#define LZK_HDR 8

/* Unpacked size from the header, or 0 when it is not an LZK stream. */
size_t lzk_size(const uint8_t *in, size_t in_len);

/* Unpack in into out (out_len bytes, lzk_size()).  Every offset and length
 * is checked against both buffers.  Returns 0, or -1 on a corrupt stream
 * (truncated, a copy before the start, more or less output than promised). */
int lzk_unpack(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len);

/* Pack in into out, which needs lzk_bound(in_len) bytes.  Returns the
 * packed length.  Build-time tool and tests only. */
size_t lzk_bound(size_t in_len);
size_t lzk_pack(const uint8_t *in, size_t in_len, uint8_t *out);

#endif
