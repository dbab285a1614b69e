// SPDX-License-Identifier: MIT
/*
 * mem.c - what the loader told us (PVH start info: memory map, command
 * line) and the page allocator for DMA-able buffers.
 *
 * The start info, its memory map and the command line sit wherever the
 * loader put them (kvmini: PVH_START_INFO and friends; QEMU: its option
 * ROM's area), so mem_init() copies what it needs before anything else can
 * allocate over them.
 */
#include "guest.h"

/* PVH boot ABI (xen/include/public/arch-x86/hvm/start_info.h). */
#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define MAX_REGIONS 32
#define MAX_FREE 32

extern char __image_start[], __image_end[];

static struct mem_region regions[MAX_REGIONS];
static unsigned nregions;
static char cmdline_buf[PVH_CMDLINE_MAX];
static uint64_t rsdp_paddr;

/* Free page runs, sorted by address, never touching each other. */
static struct {
	uint64_t addr, size;
} free_runs[MAX_FREE];
static unsigned nfree;

static void free_insert(uint64_t addr, uint64_t size);

void mem_init(uint64_t start_info_pa)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)start_info_pa;

	if (!start_info_pa || start_info_pa >= GUEST_MAPPED_TOP || si->magic != HVM_START_MAGIC)
		guest_panic("no PVH start info at %#lx (magic %#x)", start_info_pa,
			    start_info_pa ? si->magic : 0);

	rsdp_paddr = si->rsdp_paddr;
	if (si->cmdline_paddr && si->cmdline_paddr < GUEST_MAPPED_TOP) {
		const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
		size_t n = strnlen(c, sizeof(cmdline_buf) - 1);

		memcpy(cmdline_buf, c, n);
		cmdline_buf[n] = '\0';
	}

	if (si->version >= 1 && si->memmap_paddr && si->memmap_paddr < GUEST_MAPPED_TOP) {
		const struct hvm_memmap_table_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
		unsigned n = si->memmap_entries;

		if (n > MAX_REGIONS) {
			printf("mem: %u memory map entries, keeping %u\n", n, MAX_REGIONS);
			n = MAX_REGIONS;
		}
		for (unsigned i = 0; i < n; i++) {
			regions[i].addr = e[i].addr;
			regions[i].size = e[i].size;
			regions[i].type = e[i].type;
		}
		nregions = n;
	}

	/* Free RAM: every RAM region above the image, page-aligned, inside
	 * what the page tables map. */
	uint64_t floor = ALIGN_UP((uint64_t)(uintptr_t)__image_end, PAGE_SIZE);

	for (unsigned i = 0; i < nregions; i++) {
		uint64_t lo = regions[i].addr, hi = regions[i].addr + regions[i].size;

		if (regions[i].type != MEM_RAM || hi < lo)
			continue;
		if (lo < floor)
			lo = floor;
		if (hi > GUEST_MAPPED_TOP)
			hi = GUEST_MAPPED_TOP;
		lo = ALIGN_UP(lo, PAGE_SIZE);
		hi &= ~(PAGE_SIZE - 1);
		if (hi > lo)
			free_insert(lo, hi - lo);
	}
}

unsigned mem_region_count(void) { return nregions; }
const struct mem_region *mem_region_at(unsigned i) { return i < nregions ? &regions[i] : NULL; }
uint64_t mem_image_start(void) { return (uint64_t)(uintptr_t)__image_start; }
uint64_t mem_image_end(void) { return (uint64_t)(uintptr_t)__image_end; }
uint64_t mem_rsdp(void) { return rsdp_paddr; }

uint64_t mem_ram_size(void)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < nregions; i++)
		if (regions[i].type == MEM_RAM)
			total += regions[i].size;
	return total;
}

/* ---- page allocator --------------------------------------------------- */
static void free_remove(unsigned i)
{
	memmove(&free_runs[i], &free_runs[i + 1], (nfree - i - 1) * sizeof(free_runs[0]));
	nfree--;
}

static void free_insert(uint64_t addr, uint64_t size)
{
	unsigned i = 0;

	while (i < nfree && free_runs[i].addr < addr)
		i++;
	/* Merge with the run before and/or after when they touch. */
	if (i > 0 && free_runs[i - 1].addr + free_runs[i - 1].size == addr) {
		free_runs[i - 1].size += size;
		if (i < nfree && addr + size == free_runs[i].addr) {
			free_runs[i - 1].size += free_runs[i].size;
			free_remove(i);
		}
		return;
	}
	if (i < nfree && addr + size == free_runs[i].addr) {
		free_runs[i].addr = addr;
		free_runs[i].size += size;
		return;
	}
	if (nfree == MAX_FREE) {
		/* Too fragmented to track: leak it, loudly. */
		printf("mem: free list full, dropping %#lx+%#lx\n", addr, size);
		return;
	}
	memmove(&free_runs[i + 1], &free_runs[i], (nfree - i) * sizeof(free_runs[0]));
	free_runs[i].addr = addr;
	free_runs[i].size = size;
	nfree++;
}

void *page_alloc_uninit(size_t npages)
{
	uint64_t want = (uint64_t)npages * PAGE_SIZE;

	if (!npages)
		return NULL;
	for (unsigned i = 0; i < nfree; i++) {
		if (free_runs[i].size < want)
			continue;
		uint64_t addr = free_runs[i].addr;

		free_runs[i].addr += want;
		free_runs[i].size -= want;
		if (!free_runs[i].size)
			free_remove(i);
		return (void *)(uintptr_t)addr;
	}
	return NULL;
}

void *page_alloc(size_t npages)
{
	void *p = page_alloc_uninit(npages);

	if (p)
		memset(p, 0, (uint64_t)npages * PAGE_SIZE);
	return p;
}

void page_free(void *p, size_t npages)
{
	if (p && npages)
		free_insert((uint64_t)(uintptr_t)p, (uint64_t)npages * PAGE_SIZE);
}

uint64_t page_free_bytes(void)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < nfree; i++)
		total += free_runs[i].size;
	return total;
}

/* ---- command line ------------------------------------------------------- */
const char *cmdline(void) { return cmdline_buf; }

/* Find "key" as a whole word (followed by '=', space or end). */
static const char *cmdline_find(const char *key)
{
	size_t klen = strlen(key);
	const char *p = cmdline_buf;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && (p[klen] == '=' || p[klen] == ' ' || !p[klen]))
			return p + klen;
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

bool cmdline_get(const char *key, char *buf, size_t size)
{
	const char *v = cmdline_find(key);
	size_t n = 0;

	if (!v)
		return false;
	if (*v == '=')
		v++;
	else
		v = "";
	while (v[n] && v[n] != ' ')
		n++;
	if (size) {
		if (n > size - 1)
			n = size - 1;
		memcpy(buf, v, n);
		buf[n] = '\0';
	}
	return true;
}

bool cmdline_has(const char *key)
{
	return cmdline_find(key) != NULL;
}

uint64_t cmdline_u64(const char *key, uint64_t def)
{
	char buf[32];

	if (!cmdline_get(key, buf, sizeof(buf)) || !buf[0])
		return def;
	return strtou64(buf, NULL);
}
