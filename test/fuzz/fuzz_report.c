// SPDX-License-Identifier: MIT
// needs: vmm/bus.c devices/fw_cfg.c
/*
 * fuzz_report.c - the report port (devices/report.c): the guest writes the
 * GPA of a struct guest_report, whose message pointer and length are its
 * own too.  The fuzzer fills guest RAM and then issues port accesses of any
 * width and offset, with GPAs biased to land near the end of RAM.
 *
 * Invariants, on top of ASan/UBSan (which catch any read outside RAM, the
 * RAM being a heap buffer of exactly its size):
 *  - a read of the port at offset 0, 4 bytes wide, gives the magic;
 *  - the --report JSON is a well-formed array whose strings hold no control
 *    characters and no unescaped quote (names are made printable).
 *
 * report.c is included, not linked, so that each input starts with an
 * empty list of checks: a run replays from its input alone, and the JSON
 * checked is this input's (at most 16 checks), not the 512 the list holds
 * once full, which made every run slow and left new names unchecked.
 */
#include <stdio.h>
#include <string.h>

#include "../../devices/report.c"
#include "memmap.h"
#include "stubs.h"

/* A fresh list of checks: what a new kvmini starts with. */
static void report_forget(void)
{
	for (unsigned i = 0; i < rep.n; i++)
		free(rep.c[i].name);
	memset(&rep, 0, sizeof(rep));
}

#define RAM_SIZE 0x3000u

static void check_json(void)
{
	static char buf[1 << 20];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (!f)
		abort();
	report_json_checks(f);
	long n = ftell(f);
	fclose(f);
	if (n <= 0 || (size_t)n >= sizeof(buf) - 1)
		return; /* full: the check list is capped, the text is not */
	FUZZ_CHECK(buf[0] == '[' && buf[n - 1] == ']', "JSON is an array");
	bool in_str = false;
	for (long i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)buf[i];
		FUZZ_CHECK(ch >= 0x20 && ch < 0x7f, "JSON holds printable ASCII only");
		if (in_str && ch == '\\') {
			i++;
			continue;
		}
		if (ch == '"')
			in_str = !in_str;
	}
	FUZZ_CHECK(!in_str, "JSON strings are closed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	static bool once;

	fuzz_ram_reset(RAM_SIZE);
	report_forget();
	bus_init(&fuzz_vm.pio, "pio");
	report_init(&fuzz_vm);
	if (!once) {
		once = true;
		/* The guest's messages are printed: keep the fuzzer's output clean. */
		if (!freopen("/dev/null", "w", stdout))
			abort();
	}
	unsigned nops = (unsigned)fuzz_take(&in, 1) % 16;
	struct fuzz_in ops = {in.p, nops * 6u < in.n ? nops * 6u : in.n};
	in.p += ops.n;
	in.n -= ops.n;
	memcpy(fuzz_vm.mem, in.p, in.n < RAM_SIZE ? in.n : RAM_SIZE);

	while (ops.n) {
		uint8_t op = (uint8_t)fuzz_take(&ops, 1);
		uint8_t w = (uint8_t)fuzz_take(&ops, 1);
		uint32_t v = (uint32_t)fuzz_take(&ops, 4);
		unsigned len = (w & 3) == 3 ? 4 : 1u << (w & 3);

		if (op & 1) /* near the end of RAM, where a struct or message straddles it */
			v = RAM_SIZE - (v & 0x1ff);
		if (op & 2) {
			uint32_t magic = 0;
			bus_access(&fuzz_vm.pio, REPORT_PORT, &magic, 4, false);
			FUZZ_CHECK(magic == REPORT_MAGIC, "the port reads the magic");
		}
		bus_access(&fuzz_vm.pio, REPORT_PORT + ((op >> 2) & 3), &v, len, !(op & 0x10));
	}
	check_json();
	return 0;
}
