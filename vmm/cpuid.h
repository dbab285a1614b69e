/* SPDX-License-Identifier: MIT */
/*
 * cpuid.h - what CPUID tells each vCPU about the machine's topology.
 *
 * KVM_GET_SUPPORTED_CPUID describes the host's features and, in its
 * topology leaves, the host's (or nothing).  With --cpus N kvmini presents
 * one package of N cores, one thread each, APIC IDs 0..N-1, and each vCPU
 * must read its own APIC ID and that shape from every leaf an OS consults:
 *   1            EBX[31:24] initial APIC ID, EBX[23:16] addressable IDs in
 *                the package, EDX[28] HTT when there is more than one
 *   4            (Intel caches) EAX[31:26] cores - 1, EAX[25:14] CPUs
 *                sharing the cache - 1 (the L3: all; L1/L2: one)
 *   0xB, 0x1F    (x2APIC topology) SMT level: 1 CPU, shift 0; core level:
 *                N CPUs, shift = bits for N; EDX = x2APIC ID
 *   0x80000001   (AMD) ECX[1] CmpLegacy when there is more than one core
 *   0x80000008   (AMD) ECX[7:0] cores - 1, ECX[15:12] APIC ID bits for the core
 *   0x8000001D   (AMD caches) EAX[25:14] CPUs sharing the cache - 1
 *   0x8000001E   (AMD) EAX extended APIC ID, EBX[7:0] core ID, one thread
 *                per core, one node
 * Leaves KVM did not report stay absent, except 0xB, added when the basic
 * range reaches it (Linux and the tiny guest read it for the x2APIC ID).
 * Pure: the unit tests hold it to the table above.
 */
#ifndef KVMINI_CPUID_H
#define KVMINI_CPUID_H

#include <linux/kvm.h>

/* Rewrite e[0..nent) (room for max entries) for vCPU id of ncpus.
 * Returns the new entry count, or -1 when max leaves no room. */
int cpuid_topology(struct kvm_cpuid_entry2 *e, unsigned nent, unsigned max, unsigned id,
		   unsigned ncpus);

/* Can a VM on this KVM have ncpus vCPUs?  max_vcpus and nr_vcpus are what
 * KVM_CHECK_EXTENSION answers for KVM_CAP_MAX_VCPUS and KVM_CAP_NR_VCPUS
 * (0 or less: not reported).  Returns the limit when ncpus is above it,
 * else 0.  The KVM API: without MAX_VCPUS the limit is NR_VCPUS, and
 * without either it is 4.  (NR_VCPUS alone is only a recommendation, the
 * host's CPU count, when MAX_VCPUS is there: more vCPUs than host CPUs is
 * allowed, just slower.) */
int vcpu_limit(int max_vcpus, int nr_vcpus, unsigned ncpus);

/* Bits needed to number n things (0 for 1): ceil(log2(n)). */
unsigned cpuid_id_bits(unsigned n);

#endif
