/* SPDX-License-Identifier: MIT */
/*
 * cpuid.c - the topology leaves of each vCPU's CPUID (see cpuid.h for the
 * table; Intel SDM vol. 2A, CPUID; AMD APM vol. 3, appendix E).
 */
#include "cpuid.h"

#include <stdbool.h>
#include <string.h>

int vcpu_limit(int max_vcpus, int nr_vcpus, unsigned ncpus)
{
	int limit = max_vcpus > 0 ? max_vcpus : nr_vcpus > 0 ? nr_vcpus : 4;

	return ncpus > (unsigned)limit ? limit : 0;
}

unsigned cpuid_id_bits(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid_entry2 *e, unsigned n, unsigned fn,
				     unsigned idx)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

/* Drop every entry of leaf fn; returns the new count. */
static unsigned drop(struct kvm_cpuid_entry2 *e, unsigned n, unsigned fn)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		if (e[i].function != fn)
			e[k++] = e[i];
	return k;
}

/* Leaf 0xB / 0x1F, subleaves 0 (SMT), 1 (core), 2 (invalid: ends the list). */
static int add_x2apic_leaf(struct kvm_cpuid_entry2 *e, unsigned n, unsigned max, unsigned fn,
			   unsigned id, unsigned ncpus)
{
	n = drop(e, n, fn);
	if (n + 3 > max)
		return -1;
	for (unsigned sub = 0; sub < 3; sub++) {
		struct kvm_cpuid_entry2 *c = &e[n++];

		memset(c, 0, sizeof(*c));
		c->function = fn;
		c->index = sub;
		c->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		c->edx = id; /* x2APIC ID, at every level */
		c->ecx = sub;
		if (sub == 0) {
			c->eax = 0;		 /* no bits for threads: one per core */
			c->ebx = 1;		 /* logical processors at this level */
			c->ecx |= 1u << 8;	 /* level type 1: SMT */
		} else if (sub == 1) {
			c->eax = cpuid_id_bits(ncpus); /* shift to the package ID */
			c->ebx = ncpus;
			c->ecx |= 2u << 8; /* level type 2: core */
		}
	}
	return (int)n;
}

int cpuid_topology(struct kvm_cpuid_entry2 *e, unsigned nent, unsigned max, unsigned id,
		   unsigned ncpus)
{
	struct kvm_cpuid_entry2 *c, *leaf0 = find(e, nent, 0, 0), *ext0 = find(e, nent, 0x80000000, 0);
	unsigned span = 1u << cpuid_id_bits(ncpus); /* APIC IDs the package spans */
	unsigned basic_max = leaf0 ? leaf0->eax : 0;
	unsigned ext_max = ext0 ? ext0->eax : 0;
	bool amd = leaf0 && (leaf0->ebx == 0x68747541 /* "Auth" */ ||
			     leaf0->ebx == 0x69677948 /* "Hygo" */);
	int n = (int)nent;

	if (nent > max)
		return -1;
	if ((c = find(e, nent, 1, 0))) {
		c->ebx = (c->ebx & 0xffff) | (span > 255 ? 255 : span) << 16 | (id & 0xff) << 24;
		if (ncpus > 1)
			c->edx |= 1u << 28; /* HTT: EBX[23:16] is meaningful */
		else
			c->edx &= ~(1u << 28);
	}
	/* Leaf 4: one subleaf per cache, up to a type-0 (null) one. */
	for (unsigned i = 0; i < nent; i++) {
		c = &e[i];
		if (c->function != 4 || !(c->eax & 0x1f))
			continue;
		unsigned level = (c->eax >> 5) & 7, sharing = level >= 3 ? span - 1 : 0;

		c->eax = (c->eax & 0x3fff) | (sharing & 0xfff) << 14 | ((span - 1) & 0x3f) << 26;
	}
	if (basic_max >= 0xb && (n = add_x2apic_leaf(e, (unsigned)n, max, 0xb, id, ncpus)) < 0)
		return -1;
	if (basic_max >= 0x1f && find(e, (unsigned)n, 0x1f, 0) &&
	    (n = add_x2apic_leaf(e, (unsigned)n, max, 0x1f, id, ncpus)) < 0)
		return -1;
	if (amd && (c = find(e, (unsigned)n, 0x80000001, 0))) {
		if (ncpus > 1)
			c->ecx |= 1u << 1; /* CmpLegacy: HTT counts cores */
		else
			c->ecx &= ~(1u << 1);
	}
	if (ext_max >= 0x80000008 && (c = find(e, (unsigned)n, 0x80000008, 0)))
		c->ecx = (c->ecx & ~0xf0ffu) | cpuid_id_bits(ncpus) << 12 | ((ncpus - 1) & 0xff);
	for (int i = 0; i < n; i++) {
		c = &e[i];
		if (c->function != 0x8000001d || !(c->eax & 0x1f))
			continue;
		unsigned level = (c->eax >> 5) & 7, sharing = level >= 3 ? span - 1 : 0;

		c->eax = (c->eax & ~(0xfffu << 14)) | (sharing & 0xfff) << 14;
	}
	if ((c = find(e, (unsigned)n, 0x8000001e, 0))) {
		c->eax = id;		/* extended APIC ID */
		c->ebx = id & 0xff;	/* core ID; threads per core - 1 = 0 */
		c->ecx = 0;		/* node 0, one node per package */
		c->edx = 0;
	}
	return n;
}
