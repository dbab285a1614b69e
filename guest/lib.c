// SPDX-License-Identifier: MIT
/*
 * lib.c - the string and memory functions a freestanding program still
 * needs.  GCC may emit calls to memcpy/memset/memmove/memcmp on its own
 * (structure copies, large initialisers), so these keep the standard names.
 */
#include "guest.h"

/*
 * memset and memcpy are written for a host where every guest instruction
 * may cost a lot (a KVM that keeps the guest's page tables itself, or an
 * emulator such as QEMU's TCG, where a nested guest runs): a byte loop is
 * four instructions a byte, 4 M instructions to clear 1 MiB.  String
 * instructions move 8 bytes an iteration (rep stosq/movsq) and the tail
 * with rep stosb/movsb; on a CPU with fast strings (ERMS) the whole thing
 * runs at cache-line speed, and an emulator runs one helper per
 * iteration, an eighth of the byte count.  The direction flag is clear:
 * the ABI says so at every call, and nothing in the guest sets it.
 */
void *memset(void *d, int c, size_t n)
{
	uint64_t v = 0x0101010101010101ULL * (uint8_t)c;
	void *p = d;
	size_t q = n >> 3;

	__asm__ volatile("rep stosq" : "+D"(p), "+c"(q) : "a"(v) : "memory");
	q = n & 7;
	__asm__ volatile("rep stosb" : "+D"(p), "+c"(q) : "a"(v) : "memory");
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *dp = d;
	const void *sp = s;
	size_t q = n >> 3;

	__asm__ volatile("rep movsq" : "+D"(dp), "+S"(sp), "+c"(q) : : "memory");
	q = n & 7;
	__asm__ volatile("rep movsb" : "+D"(dp), "+S"(sp), "+c"(q) : : "memory");
	return d;
}

/* Overlapping with the destination above the source: copy from the top
 * down (direction flag set for the two string moves, cleared again). */
void *memmove(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;

	if (dp <= sp || dp >= sp + n)
		return memcpy(d, s, n);
	void *de = dp + n - 1;
	const void *se = sp + n - 1;
	size_t q = n & 7;

	__asm__ volatile("std; rep movsb" : "+D"(de), "+S"(se), "+c"(q) : : "memory");
	/* Now at the last byte of the remaining whole quadwords. */
	de = (uint8_t *)de - 7;
	se = (const uint8_t *)se - 7;
	q = n >> 3;
	__asm__ volatile("rep movsq; cld" : "+D"(de), "+S"(se), "+c"(q) : : "memory");
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (uint8_t)*a - (uint8_t)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

uint64_t strtou64(const char *s, const char **end)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		v = v * base + d;
	}
	if (end)
		*end = s;
	return v;
}

bool parse_ipv4(const char *s, uint32_t *ip)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		const char *e;
		uint64_t part;

		if (*s < '0' || *s > '9')
			return false;
		part = strtou64(s, &e);
		if (part > 255 || e - s > 3)
			return false;
		v = (v << 8) | (uint32_t)part;
		s = e;
		if (i < 3) {
			if (*s != '.')
				return false;
			s++;
		}
	}
	if (*s && *s != ' ' && *s != ':' && *s != '/')
		return false;
	*ip = v;
	return true;
}
