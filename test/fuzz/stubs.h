/* SPDX-License-Identifier: MIT */
/*
 * stubs.h - what the fuzz targets share: a fake guest RAM the fuzzer fills
 * and stand-ins for the KVM side of vmm/vm.h (stubs.c).  The RAM is a heap
 * buffer of exactly fuzz_ram_size bytes, so ASan flags any access the code
 * makes beyond it, and vm_gpa() keeps the real contract (wholly inside RAM).
 */
#ifndef KVMINI_FUZZ_STUBS_H
#define KVMINI_FUZZ_STUBS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../vmm/vm.h"

extern struct vm fuzz_vm;

/* Point fuzz_vm at fresh RAM of size bytes, zeroed; slot 0 describes it. */
void fuzz_ram_reset(size_t size);

/* Is [p, p+len) wholly inside the fake RAM? */
int fuzz_in_ram(const void *p, uint64_t len);

/* A violated invariant: say which, then abort so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, what)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", what, __FILE__,   \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A little reader over the fuzzer's bytes: returns 0s once exhausted. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t fuzz_take(struct fuzz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

#endif
