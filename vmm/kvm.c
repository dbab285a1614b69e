/* SPDX-License-Identifier: MIT */
/*
 * kvm.c - the VM: /dev/kvm, capabilities, guest RAM, memory slots, the
 * in-kernel irqchip, GSI routing, irqfd/ioeventfd, and teardown.
 */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpuid.h"
#include "memmap.h"
#include "phase.h"
#include "trace.h"
#include "vcpu.h"

/* Every capability kvmini relies on, and why (`kvmini check` lists them). */
const struct vm_cap vm_caps[] = {
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM and BAR slots"},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "VMX real-mode support area"},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "long mode CPUID for the guest"},
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "in-kernel LAPIC/IOAPIC/PIC"},
	{KVM_CAP_PIT2, "KVM_CAP_PIT2", "in-kernel PIT timer"},
	{KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING", "MSI routes"},
	{KVM_CAP_IRQFD, "KVM_CAP_IRQFD", "device interrupts without a userspace hop"},
	{KVM_CAP_IRQFD_RESAMPLE, "KVM_CAP_IRQFD_RESAMPLE", "level-triggered INTx for vfio"},
	{KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", "virtio kicks without a vCPU exit"},
	{KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI", "MSI injection from kvmini"},
	{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "race-free Ctrl-C handling"},
};
const size_t vm_ncaps = sizeof(vm_caps) / sizeof(vm_caps[0]);

static void vm_check_caps(struct vm *vm)
{
	int v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);

	if (v != KVM_API_VERSION)
		die(EXIT_KVM_CAP, "KVM API version is %d, kvmini needs %d: the host kernel is too old",
		    v, KVM_API_VERSION);
	for (size_t i = 0; i < vm_ncaps; i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, vm_caps[i].cap) <= 0)
			die(EXIT_KVM_CAP,
			    "KVM lacks %s (needed for %s): use a newer host kernel", vm_caps[i].name,
			    vm_caps[i].why);
	}
	v = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (v > 0 && v < VM_MAX_SLOTS)
		die(EXIT_KVM_CAP, "KVM offers %d memory slots, kvmini needs %d", v, VM_MAX_SLOTS);
}

/* The legacy routing, rebuilt so we can add MSI entries: GSI 0-15 go to
 * the PICs and the IOAPIC, GSI 16-23 to the IOAPIC only.  As on a PC (and
 * as the MADT's interrupt source override says), GSI 0, the PIT, lands on
 * IOAPIC pin 2, so GSI 2 must have no IOAPIC entry of its own: with two
 * GSIs on pin 2, KVM attributes the guest's EOI on that pin to GSI 2, the
 * PIT never sees its tick acknowledged and stops ticking. */
static void vm_default_routes(struct vm *vm)
{
	struct kvm_irq_routing_entry *e = vm->routes;
	unsigned n = 0;

	for (unsigned gsi = 0; gsi < VM_GSI_MSI_FIRST; gsi++) {
		if (gsi < 16) {
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi,
				.type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
								 : KVM_IRQCHIP_PIC_SLAVE,
					      .pin = gsi & 7}};
		}
		vm->gsi_used[gsi] = true;
		if (gsi == 2)
			continue;
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi == 0 ? 2 : gsi}};
	}
	vm->nroutes = n;
}

static int vm_commit_routes(struct vm *vm);

/* The in-kernel PIT (i8254 at 0x40-0x43, and port 0x61 with channel 2's
 * gate) is the one piece of the machine that costs a kernel thread: KVM
 * starts a worker when the PIT is created and stops it when the VM goes,
 * about 10 ms of a start-up under strace in L1.  A guest that never
 * touches the PIT (one that exits at once, or uses only the LAPIC timer)
 * should not pay for it.  So vm_create() leaves a trap on its ports; the
 * first access exits to kvmini, which creates the PIT and has the vCPU
 * loop execute that same instruction again (vcpu.c), which the kernel's
 * PIT then serves.  The guest sees a PIT that was always there.  A string
 * access (rep ins/outs, which no PIT driver uses) is not replayed: that
 * first access is dropped, reads see all ones.  GSI routing (GSI 0 to
 * IOAPIC pin 2) is in place from the start, so the PIT's tick lands
 * where the MADT says. */
#define PIT_PORT 0x40
#define PIT_SPEAKER_PORT 0x61

static void vm_pit_trap(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write);

static void vm_pit_create(struct vm *vm)
{
	struct kvm_pit_config pit = {.flags = 0};

	if (vm->pit_created)
		return;
	/* GSI 0 must reach IOAPIC pin 2 before the PIT can tick (vm_create
	 * leaves the table uncommitted until something needs it). */
	if (!vm->routes_committed && vm_commit_routes(vm) < 0)
		die_errno(EXIT_KVM_CAP, "KVM_SET_GSI_ROUTING failed");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		die_errno(EXIT_KVM_CAP, "KVM_CREATE_PIT2 failed");
	vm->pit_created = true;
	/* The kernel's PIT now claims the ports before any exit happens; the
	 * trap stays registered (and counted in --stats), never hit again. */
	trace(TRACE_BOOT, "in-kernel PIT created at the guest's first access to its ports");
}

static void vm_pit_trap(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	struct vcpu *c = vcpu_current;

	(void)off;
	(void)is_write;
	vm_pit_create(vm);
	/* Another vCPU may have created the PIT between this vCPU's exit and
	 * its turn at the device lock: its access is replayed all the same. */
	if (c && c->run->io.count == 1)
		c->pio_replay = true;
	else if (!is_write)
		memset(data, 0xff, len);
}

/*
 * Memory types, as a PC's firmware leaves them: MTRRs enabled with
 * write-back as the default type, and the 32-bit PCI window (3 GiB to
 * 4 GiB: the MMIO apertures, the IOAPIC, the LAPIC) uncacheable through
 * variable range 0.  A vCPU starts with IA32_MTRR_DEF_TYPE 0, MTRRs off,
 * which the architecture defines as all memory uncacheable: KVM applies
 * the guest's types where it must honour them (an assigned device that
 * does not snoop, a host that shadows the guest's page tables), and then
 * every guest store goes to memory uncached; and Linux, seeing MTRRs off,
 * skips its PAT set-up.  Where the CPUID given to the guest has no MTRRs,
 * nothing is set.
 */
#define MSR_MTRR_PHYSBASE0 0x200
#define MSR_MTRR_PHYSMASK0 0x201
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRR_TYPE_UC 0
#define MTRR_TYPE_WB 6
#define MTRR_DEF_ENABLE (1u << 11)
#define MTRR_PHYSMASK_VALID (1u << 11)

static void vm_set_mtrrs(int vcpu_fd, const struct kvm_cpuid2 *cpuid)
{
	unsigned phys_bits = 36;
	bool mtrr = false;

	for (unsigned i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *c = &cpuid->entries[i];

		if (c->function == 1)
			mtrr = c->edx & (1u << 12);
		if (c->function == 0x80000008 && (c->eax & 0xff))
			phys_bits = c->eax & 0xff;
	}
	if (!mtrr)
		return;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[3];
	} m = {.h.nmsrs = 3,
	       .e = {{.index = MSR_MTRR_PHYSBASE0, .data = PCI_MMIO32_BASE | MTRR_TYPE_UC},
		     {.index = MSR_MTRR_PHYSMASK0,
		      .data = (~(0x100000000ULL - PCI_MMIO32_BASE - 1) & ((1ULL << phys_bits) - 1)) |
			      MTRR_PHYSMASK_VALID},
		     {.index = MSR_MTRR_DEF_TYPE, .data = MTRR_DEF_ENABLE | MTRR_TYPE_WB}}};
	if (ioctl(vcpu_fd, KVM_SET_MSRS, &m) != 3)
		die_errno(EXIT_KVM_CAP, "KVM_SET_MSRS (MTRRs) failed");
}

/* What KVM can virtualise (that includes long mode), once for all vCPUs;
 * each vCPU then gets a copy with its own topology (cpuid.c). */
static struct kvm_cpuid2 *vm_supported_cpuid(struct vm *vm, unsigned *room)
{
	struct kvm_cpuid2 *cpuid;
	int nent = 128;

	for (;;) {
		/* Room for the topology leaves cpuid_topology() may add. */
		cpuid = calloc(1, sizeof(*cpuid) + (nent + 8) * sizeof(cpuid->entries[0]));
		if (!cpuid)
			die(EXIT_HOST, "out of memory");
		cpuid->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		free(cpuid);
		if (errno != E2BIG)
			die_errno(EXIT_KVM_CAP, "KVM_GET_SUPPORTED_CPUID failed");
		nent *= 2;
	}
	*room = nent + 8;
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *c = &cpuid->entries[i];

		/* Leaf 1 ECX bit 31: "running under a hypervisor".  KVM
		 * leaves it to the VMM.  With it, Linux reads KVM's leaves at
		 * 0x40000000 (kept as KVM reports them) and uses kvm-clock
		 * instead of calibrating against the PM timer through exits. */
		if (c->function == 1)
			c->ecx |= 1u << 31;
	}
	return cpuid;
}

/* vCPU id: KVM gives the in-kernel LAPIC this APIC ID, and vCPU 0 is the
 * boot processor (KVM's default BSP).  Every other vCPU starts in the
 * wait-for-SIPI state: KVM_RUN blocks in the kernel until the guest's
 * INIT-SIPI-SIPI, whatever start state the loader gave vCPU 0. */
static void vm_create_vcpu(struct vm *vm, unsigned id, const struct kvm_cpuid2 *base,
			   unsigned room)
{
	struct vcpu *c = &vm->vcpus[id];
	struct kvm_cpuid2 *cpuid;
	int n;

	c->vm = vm;
	c->id = id;
	c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (c->fd < 0)
		die_errno(EXIT_HOST, "cannot create vCPU %u (KVM_CREATE_VCPU)", id);
	c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->run == MAP_FAILED) {
		c->run = NULL;
		die_errno(EXIT_HOST, "cannot map vCPU %u's kvm_run area", id);
	}
	cpuid = malloc(sizeof(*cpuid) + room * sizeof(cpuid->entries[0]));
	if (!cpuid)
		die(EXIT_HOST, "out of memory");
	memcpy(cpuid, base, sizeof(*cpuid) + base->nent * sizeof(base->entries[0]));
	n = cpuid_topology(cpuid->entries, base->nent, room, id, vm->ncpus);
	if (n < 0)
		die(EXIT_HOST, "internal: no room for vCPU %u's CPUID topology leaves", id);
	cpuid->nent = (unsigned)n;
	if (ioctl(c->fd, KVM_SET_CPUID2, cpuid) < 0)
		die_errno(EXIT_KVM_CAP, "KVM_SET_CPUID2 failed for vCPU %u", id);
	/* The same memory types on every vCPU, as the architecture wants. */
	vm_set_mtrrs(c->fd, cpuid);
	free(cpuid);
}

/* TSCs in step.  KVM sets each new vCPU's TSC to 0 and treats writes that
 * come within about a second of each other as one synchronised write (the
 * KVM API, "TSC synchronisation"), so vCPUs created back to back already
 * share one offset; on a slow or loaded host (a nested L1 under TCG) they
 * may not.  Where the kernel offers the per-vCPU TSC offset attribute
 * (KVM_VCPU_TSC_CTRL, Linux 5.16), every AP gets vCPU 0's offset, which
 * puts all TSCs in step exactly; without it KVM's matching is what there is. */
static void vm_sync_tsc(struct vm *vm)
{
	uint64_t off0, off;
	struct kvm_device_attr a = {.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
				    .addr = (uintptr_t)&off0};
	unsigned moved = 0;

	if (vm->ncpus < 2)
		return;
	if (ioctl(vm->vcpus[0].fd, KVM_HAS_DEVICE_ATTR, &a) < 0 ||
	    ioctl(vm->vcpus[0].fd, KVM_GET_DEVICE_ATTR, &a) < 0) {
		trace(TRACE_BOOT, "TSC: no per-vCPU offset attribute; KVM's own matching keeps "
				  "the %u TSCs together", vm->ncpus);
		return;
	}
	a.addr = (uintptr_t)&off;
	for (unsigned i = 1; i < vm->ncpus; i++) {
		if (ioctl(vm->vcpus[i].fd, KVM_GET_DEVICE_ATTR, &a) < 0)
			die_errno(EXIT_HOST, "cannot read vCPU %u's TSC offset", i);
		if (off == off0)
			continue;
		a.addr = (uintptr_t)&off0;
		if (ioctl(vm->vcpus[i].fd, KVM_SET_DEVICE_ATTR, &a) < 0)
			die_errno(EXIT_HOST, "cannot set vCPU %u's TSC offset", i);
		a.addr = (uintptr_t)&off;
		moved++;
	}
	trace(TRACE_BOOT, "TSC: %u vCPUs share vCPU 0's offset 0x%llx (%u moved to it)", vm->ncpus,
	      (unsigned long long)off0, moved);
}

static void vm_create_vcpus(struct vm *vm)
{
	unsigned room;
	struct kvm_cpuid2 *base;
	long sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (sz <= 0)
		die_errno(EXIT_HOST, "KVM_GET_VCPU_MMAP_SIZE failed");
	vm->run_size = (size_t)sz;
	base = vm_supported_cpuid(vm, &room);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm_create_vcpu(vm, i, base, room);
	free(base);
	vm_sync_tsc(vm);
	/* Every AP must wait for the guest's SIPI, whatever the boot format
	 * (KVM promises it with the in-kernel LAPIC): say so if it does not. */
	for (unsigned i = 1; i < vm->ncpus; i++) {
		struct kvm_mp_state mp;

		if (ioctl(vm->vcpus[i].fd, KVM_GET_MP_STATE, &mp) == 0 &&
		    mp.mp_state != KVM_MP_STATE_UNINITIALIZED)
			die(EXIT_KVM_CAP, "vCPU %u is not waiting for a SIPI (mp_state %u): this KVM "
					  "would start it at the reset vector", i, mp.mp_state);
	}
	if (vm->ncpus > 1)
		trace(TRACE_BOOT, "%u vCPUs, APIC IDs 0-%u; vCPUs 1-%u wait for INIT-SIPI-SIPI",
		      vm->ncpus, vm->ncpus - 1, vm->ncpus - 1);
}

void vm_create(struct vm *vm, uint64_t mem_size, unsigned ncpus)
{
	int limit;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	vm->ncpus = ncpus;
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		vm->vcpus[i].fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		if (errno == ENOENT)
			die(EXIT_NO_KVM, "/dev/kvm does not exist: load kvm-intel or kvm-amd, "
					 "enable virtualisation in firmware, or use `make run` to try nested");
		if (errno == EACCES || errno == EPERM)
			die(EXIT_NO_KVM, "no permission to open /dev/kvm: add yourself to the "
					 "'kvm' group or run as root");
		die_errno(EXIT_NO_KVM, "cannot open /dev/kvm");
	}
	vm_check_caps(vm);
	/* Before anything is created: a count this KVM refuses is said once
	 * (every KVM allows one vCPU: --cpus 1 asks nothing). */
	limit = ncpus < 2 ? 0 : vcpu_limit(ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS),
			      ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS), ncpus);
	if (limit)
		die(EXIT_HOST, "--cpus %u: this host's KVM allows at most %d vCPUs in a VM "
			       "(KVM_CAP_MAX_VCPUS); ask for fewer",
		    ncpus, limit);

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	/* Out of memory or fds is the host's resources; anything else (EBUSY:
	 * virtualisation disabled in firmware, or another hypervisor holding
	 * VT-x/AMD-V) is a KVM that cannot run guests here. */
	if (vm->vm_fd < 0 && (errno == ENOMEM || errno == EMFILE || errno == ENFILE))
		die_errno(EXIT_HOST, "cannot create a VM (KVM_CREATE_VM)");
	if (vm->vm_fd < 0)
		die_errno(EXIT_NO_KVM,
			  "KVM cannot create a VM here (see dmesg: enable virtualisation in "
			  "firmware, stop other hypervisors); KVM_CREATE_VM");
	/* Intel VMX needs three pages for real-mode emulation; put them
	 * just below the IOAPIC, away from RAM and the PCI apertures. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		die_errno(EXIT_KVM_CAP, "KVM_SET_TSS_ADDR failed");

	vm->mem_size = mem_size;
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		die_errno(EXIT_HOST, "cannot allocate %llu MiB of guest RAM",
			  (unsigned long long)(mem_size >> 20));
	madvise(vm->mem, mem_size, MADV_MERGEABLE);
	struct kvm_userspace_memory_region ram = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &ram) < 0)
		die_errno(EXIT_HOST, "cannot give guest RAM to KVM");
	vm->slots[0] = (struct vm_slot){
		.used = true, .gpa = 0, .size = mem_size, .hva = vm->mem, .name = "RAM"};

	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die_errno(EXIT_KVM_CAP, "KVM_CREATE_IRQCHIP failed");
	if (bus_register(&vm->pio, PIT_PORT, 4, vm_pit_trap, vm, "pit (until first use)") < 0 ||
	    bus_register(&vm->pio, PIT_SPEAKER_PORT, 1, vm_pit_trap, vm, "pit port 0x61 (until first use)") < 0)
		die(EXIT_HOST, "internal: cannot trap the PIT's ports");
	/* KVM's own default table sends GSI 0 to IOAPIC pin 0, while ours
	 * (and the MADT's override) say pin 2; otherwise the two agree (GSI
	 * 1-15 to the PICs and the same IOAPIC pin, 16-23 to the IOAPIC).
	 * Only the PIT raises GSI 0, so ours is handed over when the PIT is
	 * created or an MSI route is set, whichever comes first: a guest that
	 * uses neither never pays for the call (an SRCU grace period in KVM,
	 * on top of the one KVM_CREATE_IRQCHIP already takes for its own). */
	vm_default_routes(vm);

	vm_create_vcpus(vm);
}

uint64_t vm_ram_resident(struct vm *vm)
{
	/* mincore() one chunk at a time: a small vector however big RAM is. */
	unsigned char vec[1024];
	const uint64_t chunk = sizeof(vec) * 4096;
	uint64_t pages = 0;

	for (uint64_t off = 0; off < vm->mem_size; off += chunk) {
		uint64_t len = vm->mem_size - off < chunk ? vm->mem_size - off : chunk;

		if (mincore(vm->mem + off, len, vec) < 0)
			return 0;
		for (uint64_t i = 0; i < (len + 4095) / 4096; i++)
			pages += vec[i] & 1;
	}
	return pages * 4096;
}

void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa >= vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool vm_range_overlaps_ram(struct vm *vm, uint64_t gpa, uint64_t size)
{
	if (size == 0 || gpa + size < gpa)
		return true; /* a wrapping range is never acceptable */
	for (int i = 0; i < VM_MAX_SLOTS; i++)
		if (vm->slots[i].used && ranges_overlap(gpa, size, vm->slots[i].gpa, vm->slots[i].size))
			return true;
	return false;
}

int vm_slot_add(struct vm *vm, uint64_t gpa, uint64_t size, void *hva, const char *name)
{
	long page = sysconf(_SC_PAGESIZE);
	int slot = -1;

	if (!size || (gpa | size | (uintptr_t)hva) & (page - 1))
		return -EINVAL;
	if (vm_range_overlaps_ram(vm, gpa, size))
		return -EINVAL;
	for (int i = 1; i < VM_MAX_SLOTS; i++) {
		if (!vm->slots[i].used) {
			slot = i;
			break;
		}
	}
	if (slot < 0)
		return -ENOSPC;
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	vm->slots[slot] = (struct vm_slot){
		.used = true, .gpa = gpa, .size = size, .hva = hva, .name = name};
	return slot;
}

int vm_slot_del(struct vm *vm, int slot)
{
	if (slot <= 0 || slot >= VM_MAX_SLOTS || !vm->slots[slot].used)
		return -EINVAL;
	/* A slot is deleted by giving it size 0. */
	struct kvm_userspace_memory_region r = {.slot = slot};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	vm->slots[slot].used = false;
	return 0;
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level l = {.irq = gsi, .level = level};

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static int vm_commit_routes(struct vm *vm)
{
	struct kvm_irq_routing *r;
	int ret = 0;

	r = calloc(1, sizeof(*r) + vm->nroutes * sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	r->nr = vm->nroutes;
	memcpy(r->entries, vm->routes, vm->nroutes * sizeof(r->entries[0]));
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		ret = -errno;
	else
		vm->routes_committed = true;
	free(r);
	return ret;
}

int vm_msi_route_alloc(struct vm *vm)
{
	for (unsigned gsi = VM_GSI_MSI_FIRST; gsi < VM_MAX_GSI; gsi++) {
		if (!vm->gsi_used[gsi]) {
			vm->gsi_used[gsi] = true;
			return gsi;
		}
	}
	return -ENOSPC;
}

static int vm_route_index(struct vm *vm, unsigned gsi)
{
	for (unsigned i = 0; i < vm->nroutes; i++)
		if (vm->routes[i].gsi == gsi)
			return i;
	return -1;
}

int vm_msi_route_set(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	int i;

	if (gsi < VM_GSI_MSI_FIRST || gsi >= VM_MAX_GSI || !vm->gsi_used[gsi])
		return -EINVAL;
	i = vm_route_index(vm, gsi);
	if (i < 0) {
		if (vm->nroutes == VM_MAX_GSI)
			return -ENOSPC;
		i = vm->nroutes++;
	}
	vm->routes[i] = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = {.address_lo = (uint32_t)addr,
			  .address_hi = (uint32_t)(addr >> 32),
			  .data = data}};
	return vm_commit_routes(vm);
}

void vm_msi_route_free(struct vm *vm, unsigned gsi)
{
	int i;

	if (gsi < VM_GSI_MSI_FIRST || gsi >= VM_MAX_GSI)
		return;
	i = vm_route_index(vm, gsi);
	if (i >= 0) {
		vm->routes[i] = vm->routes[--vm->nroutes];
		vm_commit_routes(vm);
	}
	vm->gsi_used[gsi] = false;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data};

	/* Returns >0 when delivered, 0 when the guest blocked it. */
	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

int vm_irqfd(struct vm *vm, int fd, unsigned gsi, int resample_fd, bool assign)
{
	struct kvm_irqfd i = {.fd = fd, .gsi = gsi};

	if (!assign)
		i.flags |= KVM_IRQFD_FLAG_DEASSIGN;
	else if (resample_fd >= 0) {
		i.flags |= KVM_IRQFD_FLAG_RESAMPLE;
		i.resamplefd = resample_fd;
	}
	return ioctl(vm->vm_fd, KVM_IRQFD, &i) < 0 ? -errno : 0;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd, bool pio, bool assign)
{
	struct kvm_ioeventfd e = {.addr = addr, .len = len, .fd = fd};

	if (pio)
		e.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (!assign)
		e.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

void vm_at_exit(struct vm *vm, void (*fn)(void *), void *arg)
{
	if (vm->natexit == sizeof(vm->atexit) / sizeof(vm->atexit[0]))
		die(EXIT_HOST, "internal: too many teardown hooks");
	vm->atexit[vm->natexit++] = (struct vm_atexit){fn, arg};
}

void vm_destroy(struct vm *vm)
{
	/* A way out taken on one vCPU thread (die() in a handler) must not
	 * release devices under the feet of the others: stop them first. */
	bool vcpus_stopped = vcpu_stop_all(vm);

	/* Reverse order: a device registered later may depend on earlier ones
	 * (vfio's DMA map depends on guest RAM, for instance). */
	while (vm->natexit) {
		struct vm_atexit a = vm->atexit[--vm->natexit];

		a.fn(a.arg);
	}
	phase_mark(PH_TD_DEVICES);
	/* The other vCPU threads have left their loops (vcpu_stop_all): no
	 * one reads a kvm_run area from here on.  If one could not, its
	 * area and fd stay for the process exit to release. */
	for (unsigned i = 0; vcpus_stopped && i < VM_MAX_VCPUS; i++) {
		struct vcpu *c = &vm->vcpus[i];

		if (c->run)
			munmap(c->run, vm->run_size);
		c->run = NULL;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
	}
	phase_mark(PH_TD_VCPU);
	/* The last reference to the VM: KVM destroys it here (irqchip, PIT,
	 * memory slots, its MMU), the same work exit() would do. */
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	phase_mark(PH_TD_VM);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	if (vm->mem && vm->mem != MAP_FAILED)
		munmap(vm->mem, vm->mem_size);
	vm->mem = NULL;
	phase_mark(PH_TD_RAM);
}
