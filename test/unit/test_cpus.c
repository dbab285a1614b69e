// SPDX-License-Identifier: MIT
// needs: vmm/cpuid.c vmm/cli.c vmm/trace.c
/*
 * test_cpus.c - --cpus N without a VM: the option's parsing and limits
 * (one line, exit 2, for 0, 33 and words), KVM's vCPU limit as the KVM API
 * defines it, and each vCPU's CPUID topology for N CPUs (cpuid.h's table),
 * on an Intel-like and an AMD-like leaf set shaped as KVM_GET_SUPPORTED_CPUID
 * returns them.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../vmm/cli.h"
#include "../../vmm/cpuid.h"
#include "../../vmm/trace.h"
#include "tap.h"

/* kvmini's command line in a child: its exit status and stderr. */
static int run_cli(const char *arg, char *err, size_t errlen)
{
	int fd[2], st;
	pid_t pid;
	ssize_t n;

	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid == 0) {
		char *argv[] = {"kvmini", "--cpus", (char *)arg, NULL};
		struct config cfg;

		dup2(fd[1], 2);
		close(fd[0]);
		cli_parse(3, argv, &cfg);
		_exit(cfg.cpus == (unsigned)atoi(arg) ? 0 : 99);
	}
	close(fd[1]);
	n = read(fd[0], err, errlen - 1);
	err[n > 0 ? n : 0] = 0;
	close(fd[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static unsigned lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static struct kvm_cpuid_entry2 ent(unsigned fn, unsigned idx, unsigned a, unsigned b, unsigned c,
				   unsigned d)
{
	return (struct kvm_cpuid_entry2){.function = fn, .index = idx, .eax = a, .ebx = b, .ecx = c,
					 .edx = d};
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid_entry2 *e, int n, unsigned fn, unsigned idx)
{
	for (int i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

static int count(struct kvm_cpuid_entry2 *e, int n, unsigned fn)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += e[i].function == fn;
	return k;
}

/* Intel-like: "GenuineIntel", basic leaves up to 0x1f, three caches in
 * leaf 4 (L1d, L2, L3) with the host's 16-thread sharing, host 0xB/0x1F
 * subleaves that claim 2 threads per core. */
static int intel(struct kvm_cpuid_entry2 *e)
{
	int n = 0;

	e[n++] = ent(0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69);
	e[n++] = ent(1, 0, 0x906ea, 0x07100800, 0x80000000, 0x178bfbff);
	e[n++] = ent(4, 0, 0x121 | 1u << 14 | 7u << 26, 0, 0, 0);  /* L1d */
	e[n++] = ent(4, 2, 0x143 | 1u << 14 | 7u << 26, 0, 0, 0);  /* L2 */
	e[n++] = ent(4, 3, 0x163 | 15u << 14 | 7u << 26, 0, 0, 0); /* L3 */
	e[n++] = ent(4, 4, 0, 0, 0, 0);
	e[n++] = ent(0xb, 0, 1, 2, 0x100, 9);
	e[n++] = ent(0xb, 1, 4, 16, 0x201, 9);
	e[n++] = ent(0x1f, 0, 1, 2, 0x100, 9);
	e[n++] = ent(0x1f, 1, 4, 16, 0x201, 9);
	e[n++] = ent(0x80000000, 0, 0x80000008, 0, 0, 0);
	e[n++] = ent(0x80000001, 0, 0, 0, 0x121, 0x2c100800);
	e[n++] = ent(0x80000008, 0, 0x3027, 0, 0, 0);
	return n;
}

/* AMD-like: "AuthenticAMD", basic leaves up to 0xd (no 0xB reported: Zen 1),
 * extended to 0x8000001f with cache leaves 0x8000001D and 0x8000001E. */
static int amd(struct kvm_cpuid_entry2 *e)
{
	int n = 0;

	e[n++] = ent(0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
	e[n++] = ent(1, 0, 0x800f12, 0x00100800, 0x80000000, 0x178bfbff);
	e[n++] = ent(0x80000000, 0, 0x8000001f, 0x68747541, 0x444d4163, 0x69746e65);
	e[n++] = ent(0x80000001, 0, 0x800f12, 0, 0x35c233ff, 0x2fd3fbff);
	e[n++] = ent(0x80000008, 0, 0x3030, 0, 0x7007, 0);
	e[n++] = ent(0x8000001d, 0, 0x121 | 1u << 14, 0, 0, 0);  /* L1d */
	e[n++] = ent(0x8000001d, 2, 0x143 | 1u << 14, 0, 0, 0);  /* L2 */
	e[n++] = ent(0x8000001d, 3, 0x163 | 15u << 14, 0, 0, 0); /* L3 */
	e[n++] = ent(0x8000001d, 4, 0, 0, 0, 0);
	e[n++] = ent(0x8000001e, 0, 0, 0, 0, 0);
	return n;
}

static void topology_intel(unsigned ncpus)
{
	struct kvm_cpuid_entry2 e[32], orig[32], *c;
	unsigned span = 1u << cpuid_id_bits(ncpus);
	int bad1 = 0, bad4 = 0, badb = 0, n0 = intel(orig), n = 0;

	for (unsigned id = 0; id < ncpus; id++) {
		intel(e);
		n = cpuid_topology(e, (unsigned)n0, 32, id, ncpus);
		c = find(e, n, 1, 0);
		bad1 += c->ebx >> 24 != id || ((c->ebx >> 16) & 0xff) != span ||
			!!(c->edx & 1u << 28) != (ncpus > 1) || (c->ebx & 0xffff) != 0x0800;
		for (unsigned sub = 0; sub < 4; sub++) {
			unsigned want_share = sub == 3 ? span - 1 : 0;

			struct kvm_cpuid_entry2 *o = find(orig, n0, 4, sub);

			c = find(e, n, 4, sub);
			if (c && (c->eax & 0x1f))
				bad4 += ((c->eax >> 14) & 0xfff) != want_share ||
					c->eax >> 26 != span - 1 || (c->eax & 0x3fff) != (o->eax & 0x3fff);
			else if (c)
				bad4 += c->eax != 0; /* the null subleaf stays null */
		}
		for (unsigned fn = 0xb; fn <= 0x1f; fn += 0x14) {
			struct kvm_cpuid_entry2 *s0 = find(e, n, fn, 0), *s1 = find(e, n, fn, 1),
						*s2 = find(e, n, fn, 2);

			badb += !s0 || !s1 || !s2 || count(e, n, fn) != 3;
			if (!s0 || !s1 || !s2)
				continue;
			badb += s0->eax != 0 || s0->ebx != 1 || s0->ecx != 0x100 || s0->edx != id;
			badb += s1->eax != cpuid_id_bits(ncpus) || s1->ebx != ncpus ||
				s1->ecx != 0x201 || s1->edx != id;
			badb += s2->eax || s2->ebx || s2->ecx != 2 || s2->edx != id;
			badb += !(s0->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
		}
	}
	tap_eq(bad1, 0, "Intel, %u CPUs: leaf 1 APIC ID, %u addressable IDs, HTT %s", ncpus, span,
	       ncpus > 1 ? "set" : "clear");
	tap_eq(bad4, 0, "Intel, %u CPUs: leaf 4 cores = %u, L3 shared by all, L1/L2 by one",
	       ncpus, span);
	tap_eq(badb, 0, "Intel, %u CPUs: leaves 0xB and 0x1F: SMT 1, core %u, x2APIC ID each",
	       ncpus, ncpus);
	tap_eq(n, n0 + 2, "Intel, %u CPUs: 0xB and 0x1F get a third (terminating) subleaf", ncpus);
}

static void topology_amd(unsigned ncpus)
{
	struct kvm_cpuid_entry2 e[32], *c;
	unsigned span = 1u << cpuid_id_bits(ncpus);
	int bad = 0, n0 = amd(e), n = 0;

	for (unsigned id = 0; id < ncpus; id++) {
		n0 = amd(e);
		n = cpuid_topology(e, (unsigned)n0, 32, id, ncpus);
		c = find(e, n, 1, 0);
		bad += c->ebx >> 24 != id || ((c->ebx >> 16) & 0xff) != span;
		c = find(e, n, 0x80000001, 0);
		bad += !!(c->ecx & 2) != (ncpus > 1) || (c->ecx & ~2u) != (0x35c233ffu & ~2u);
		c = find(e, n, 0x80000008, 0);
		bad += (c->ecx & 0xff) != ncpus - 1 || ((c->ecx >> 12) & 0xf) != cpuid_id_bits(ncpus) ||
		       c->eax != 0x3030;
		c = find(e, n, 0x8000001d, 3);
		bad += ((c->eax >> 14) & 0xfff) != span - 1 || (c->eax & 0x3fff) != 0x163;
		c = find(e, n, 0x8000001d, 0);
		bad += ((c->eax >> 14) & 0xfff) != 0;
		c = find(e, n, 0x8000001e, 0);
		bad += c->eax != id || c->ebx != id || c->ecx != 0;
		/* KVM reported no 0xB, but the basic range (to 0xd) covers it:
		 * added, so that the x2APIC ID can be read there too. */
		c = find(e, n, 0xb, 1);
		bad += count(e, n, 0xb) != 3 || !c || c->ebx != ncpus || c->edx != id;
	}
	tap_eq(bad, 0, "AMD, %u CPUs: leaf 1, CmpLegacy, 0x80000008 NC/ApicIdSize, 0x8000001D, "
		       "0x8000001E per vCPU",
	       ncpus);
	tap_eq(n, n0 + 3, "AMD, %u CPUs: leaf 0xB added (basic range 0xd), nothing else", ncpus);
}

int main(void)
{
	char err[512];
	struct kvm_cpuid_entry2 e[32];

	/* --cpus: the option. */
	tap_eq(cli_parse_cpus("4"), 4, "cli_parse_cpus(\"4\")");
	tap_eq(cli_parse_cpus("32"), 32, "cli_parse_cpus(\"32\")");
	tap_eq(cli_parse_cpus("0"), 0, "cli_parse_cpus(\"0\") is 0, for the range check");
	static const char *const junk[] = {"", "-1", "+2", " 2", "2 ", "0x4", "4k", "1000", "1e1"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		tap_eq(cli_parse_cpus(junk[i]), -1, "cli_parse_cpus(\"%s\") refused", junk[i]);
	static const struct {
		const char *arg, *says;
		int rc;
	} cases[] = {
	    {"1", "", 0},
	    {"8", "", 0},
	    {"32", "", 0},
	    {"0", "kvmini: --cpus 0: a VM needs at least 1 vCPU", EXIT_USAGE},
	    {"33", "kvmini: --cpus 33 is too many: kvmini gives a guest at most 32 vCPUs",
	     EXIT_USAGE},
	    {"999", "kvmini: --cpus 999 is too many", EXIT_USAGE},
	    {"four", "kvmini: --cpus 'four' is not a number: try --cpus 4", EXIT_USAGE},
	    {"-2", "kvmini: --cpus '-2' is not a number", EXIT_USAGE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = run_cli(cases[i].arg, err, sizeof(err));

		tap_eq(rc, cases[i].rc, "--cpus %s: exit %d", cases[i].arg, cases[i].rc);
		if (cases[i].rc) {
			tap_ok(!strncmp(err, cases[i].says, strlen(cases[i].says)) && lines(err) == 1,
			       "--cpus %s: one line: %s", cases[i].arg, cases[i].says);
		}
	}

	/* KVM's limit (KVM API, KVM_CAP_MAX_VCPUS and KVM_CAP_NR_VCPUS). */
	tap_eq(vcpu_limit(1024, 1, 32), 0, "MAX_VCPUS 1024, NR_VCPUS 1: 32 vCPUs allowed");
	tap_eq(vcpu_limit(16, 16, 32), 16, "MAX_VCPUS 16: 32 refused, the limit is 16");
	tap_eq(vcpu_limit(16, 16, 16), 0, "MAX_VCPUS 16: 16 allowed");
	tap_eq(vcpu_limit(0, 8, 9), 8, "no MAX_VCPUS: NR_VCPUS (8) is the limit");
	tap_eq(vcpu_limit(0, 0, 5), 4, "neither: the limit is 4");
	tap_eq(vcpu_limit(-1, -1, 4), 0, "neither: 4 allowed");

	/* CPUID. */
	tap_eq(cpuid_id_bits(1), 0, "1 CPU needs 0 ID bits");
	tap_eq(cpuid_id_bits(2), 1, "2 CPUs need 1");
	tap_eq(cpuid_id_bits(3), 2, "3 CPUs need 2");
	tap_eq(cpuid_id_bits(32), 5, "32 CPUs need 5");
	static const unsigned counts[] = {1, 2, 3, 4, 8, 32};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		topology_intel(counts[i]);
		topology_amd(counts[i]);
	}
	tap_eq(cpuid_topology(e, (unsigned)intel(e), 13, 0, 4), -1,
	       "no room for the added subleaves: refused");
	return tap_done();
}
