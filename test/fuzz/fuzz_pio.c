// SPDX-License-Identifier: MIT
// needs: devices/serial.c devices/rtc.c devices/pm.c vmm/bus.c
/*
 * fuzz_pio.c - the small port-I/O devices a guest can poke at will: the
 * 16550 UART (devices/serial.c), the CMOS RTC (devices/rtc.c), the ACPI PM
 * block and the keyboard-controller reset port (devices/pm.c).  Any port
 * near theirs, any width (1, 2, 4, and odd ones), any value, in any order.
 *
 * Checks: ASan/UBSan, and die() aborts: a guest may end the VM through the
 * PM block or a reset (that sets vm->done), but must never make kvmini die.
 */
#include <string.h>
#include <unistd.h>

#include "../../devices/pm.h"
#include "../../devices/rtc.h"
#include "../../devices/serial.h"
#include "memmap.h"
#include "stubs.h"

static const uint16_t ports[] = {PORT_COM1,	 PORT_COM1 + 1, PORT_COM1 + 2, PORT_COM1 + 3,
				 PORT_COM1 + 4,	 PORT_COM1 + 5, PORT_COM1 + 6, PORT_COM1 + 7,
				 PORT_RTC_INDEX, PORT_RTC_DATA, PORT_KBD_CMD,  PM_BASE,
				 PM_BASE + 4,	 PM_BASE + 8,	PM_BASE + 0xc, 0x3f7};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	static bool once;

	if (!once) {
		once = true;
		/* The guest's console output goes to stdout; the UART's reader
		 * thread reads stdin: give it an empty one so it ends at once. */
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "r", stdin))
			abort();
		fuzz_ram_reset(4096);
		bus_init(&fuzz_vm.pio, "pio");
		serial_init(&fuzz_vm);
	}
	/* RTC and PM keep their state in statics their init resets. */
	rtc_init(&fuzz_vm);
	pm_init(&fuzz_vm);
	fuzz_vm.done = false;
	while (in.n) {
		uint8_t p = (uint8_t)fuzz_take(&in, 1), w = (uint8_t)fuzz_take(&in, 1);
		uint32_t v = (uint32_t)fuzz_take(&in, 4);
		uint16_t port = ports[p % 16] + (p & 0x80 ? (p >> 4) % 4 : 0);
		uint32_t len = w & 0x80 ? 1 + (w % 4) : 1u << (w % 3);

		bus_access(&fuzz_vm.pio, port, &v, len, w & 0x40);
	}
	/* The next run starts from fresh RTC/PM state: unregister them. */
	for (size_t i = 0; i < fuzz_vm.pio.n;) {
		struct bus_range *r = &fuzz_vm.pio.r[i];
		if (r->base != PORT_COM1 && !bus_unregister(&fuzz_vm.pio, r->base, r->opaque))
			continue;
		i++;
	}
	return 0;
}
