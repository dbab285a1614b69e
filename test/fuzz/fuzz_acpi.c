// SPDX-License-Identifier: MIT
// needs: vmm/acpi.c
/*
 * fuzz_acpi.c - the ACPI builder (vmm/acpi.c) over its inputs: the size of
 * the region it may use and the guest address the tables are placed at
 * (kvmini passes ACPI_BASE and ACPI_SIZE; a changed memmap.h, or a future
 * caller, passes others), with the region full of garbage beforehand.
 *
 * Checks (besides ASan, which sees any byte written past the region: the
 * region is an exact-size heap buffer): the build is refused exactly below
 * the smallest size that works; an accepted build uses at most len bytes,
 * ignores the old contents (same bytes for two different fillings), and
 * gives tables that each lie inside the used bytes, sum to zero, and point
 * at one another (RSDP -> XSDT -> FADT, MADT, MCFG; FADT -> FACS, DSDT) at
 * addresses inside [gpa, gpa + used).
 */
#include <string.h>

#include "../../vmm/acpi.h"
#include "stubs.h"

static size_t min_len;

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* The table at guest address a: inside the used bytes, with signature sig,
 * a length that fits, and a zero checksum.  Returns its bytes. */
static const uint8_t *table(const uint8_t *r, uint64_t gpa, size_t used, uint64_t a,
			    const char *sig)
{
	FUZZ_CHECK(a >= gpa && a - gpa + 36 <= used, "a table pointer lies in the region");
	const uint8_t *t = r + (a - gpa);
	FUZZ_CHECK(!memcmp(t, sig, 4), "a pointer leads to the table it names");
	uint32_t len = ld32(t + 4);
	FUZZ_CHECK(len >= 36 && a - gpa + len <= used, "a table's length fits the used bytes");
	FUZZ_CHECK(sum(t, len) == 0, "a table's checksum is right");
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct acpi_layout lay, lay2;

	if (!min_len) {
		uint8_t *b = malloc(ACPI_SIZE);
		for (min_len = 1;
		     min_len <= ACPI_SIZE && acpi_build(b, min_len, ACPI_BASE, 32, &lay) < 0; min_len++)
			;
		free(b);
		FUZZ_CHECK(min_len <= ACPI_SIZE, "the tables fit in ACPI_SIZE");
	}
	size_t len = fuzz_take(&in, 2) % (min_len + 512);
	uint64_t gpa = fuzz_take(&in, 8);
	if (fuzz_take(&in, 1) & 1) /* mostly where an OS can find it */
		gpa = (gpa & 0xfffffff0) % (1ULL << 32);
	uint8_t fill = (uint8_t)fuzz_take(&in, 1);
	unsigned ncpus = 1 + (unsigned)fuzz_take(&in, 1) % 32; /* --cpus 1..32 */

	/* gpa + len must not wrap: a region is somewhere in the address space. */
	if (gpa > ~0ULL - (len + 0x1000))
		gpa = ~0ULL - (len + 0x1000);
	uint8_t *r = malloc(len ? len : 1), *r2 = malloc(len ? len : 1);
	memset(r, fill, len);
	memset(r2, (uint8_t)~fill, len);
	for (size_t i = 0; i < len && in.n; i++)
		r[i] ^= (uint8_t)fuzz_take(&in, 1);
	int rc = acpi_build(r, len, gpa, ncpus, &lay);
	FUZZ_CHECK((rc == 0) == (len >= min_len), "refused exactly when too small");
	if (rc == 0) {
		FUZZ_CHECK(lay.used <= len, "the tables use at most the region");
		FUZZ_CHECK(acpi_build(r2, len, gpa, ncpus, &lay2) == 0 && !memcmp(r, r2, lay.used) &&
			       !memcmp(&lay, &lay2, sizeof(lay)),
			   "the build ignores what the region held");
		FUZZ_CHECK(lay.rsdp == gpa && !memcmp(r, "RSD PTR ", 8) && sum(r, 20) == 0 &&
			       sum(r, 36) == 0 && ld32(r + 20) == 36,
			   "the RSDP is first, with both checksums right");
		const uint8_t *x = table(r, gpa, lay.used, ld64(r + 24), "XSDT");
		uint32_t n = (ld32(x + 4) - 36) / 8;
		FUZZ_CHECK(n == 3, "the XSDT lists three tables");
		const char *sigs[3] = {"FACP", "APIC", "MCFG"};
		for (unsigned i = 0; i < n; i++)
			table(r, gpa, lay.used, ld64(x + 36 + 8 * i), sigs[i]);
		const uint8_t *f = r + (lay.fadt - gpa);
		/* FADT (5.2.9): X_FIRMWARE_CTRL at 132, X_DSDT at 140. */
		table(r, gpa, lay.used, ld64(f + 140), "DSDT");
		uint64_t facs = ld64(f + 132);
		FUZZ_CHECK(facs >= gpa && facs - gpa + 64 <= lay.used &&
			       !(facs & 63) == !(gpa & 63) && !memcmp(r + (facs - gpa), "FACS", 4),
			   "the FACS is in the region, 64-byte aligned when the region is");
	}
	free(r);
	free(r2);
	return 0;
}
