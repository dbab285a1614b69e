/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c - where a vCPU's trapped port or MMIO access meets the device
 * models: under the VM's device lock, through the bus of its address space.
 *
 * Why one lock for every device, taken around the whole access: the exits
 * that reach kvmini are the slow, rare ones (config space, a device's
 * trapped registers, the UART, the PM block).  The hot paths never come
 * here: ioeventfd kicks, irqfd interrupts, mmapped BARs, and the in-kernel
 * LAPIC, IOAPIC and PIT are served by KVM.  So contention is rare, and one
 * lock makes every handler run as it did with one vCPU: the bus table, the
 * 0xcf8 latch, config space, BAR moves (which re-register ranges during a
 * handler), MSI/MSI-X tables and GSI routes all change one access at a
 * time, with no lock order between devices to get wrong.  Threads that are
 * not vCPUs (virtio-net's I/O thread, the serial reader, the VFIO events
 * thread) never take this lock, only their device's own, and a vCPU takes a
 * device's lock only while it holds this one: so the order is always "VM
 * lock, then device lock", and no cycle can form (docs/architecture.md,
 * "Locking").
 */
#include <pthread.h>

#include "bus.h"
#include "vm.h"

bool vm_pio(struct vm *vm, uint16_t port, uint8_t *data, size_t avail, uint32_t size,
	    uint32_t count, bool out, bool *done)
{
	bool ok = true;

	pthread_mutex_lock(&vm->lock);
	/* A string instruction (rep outs/ins) may arrive as count accesses
	 * of size bytes each, in one exit: the bus hands them to the device
	 * in one call, within the kvm_run area.  (KVM batches rep ins this
	 * way; its emulator exits once per element of rep outs.) */
	if (count == 1 && size <= avail)
		bus_access(&vm->pio, port, data, size, out);
	else
		ok = bus_access_string(&vm->pio, port, data, avail, size, count, out);
	*done = vm->done;
	pthread_mutex_unlock(&vm->lock);
	return ok;
}

void vm_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
	     bool *done)
{
	pthread_mutex_lock(&vm->lock);
	bus_access(&vm->mmio, addr, data, len, is_write);
	*done = vm->done;
	pthread_mutex_unlock(&vm->lock);
}
