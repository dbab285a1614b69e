# kvmini - one static binary, a tiny guest embedded in it.
#
#   make          build/kvmini (and build/guest.elf)
#   make test     unit tests, the QEMU cross-check, the nested KVM test
#   make run      the demo: directly with /dev/kvm, else in a nested VM
#   make bench    benchmarks (nested)
#   make install  build/kvmini and kvmini(1) under $(DESTDIR)$(PREFIX)
#
# Host and guest are built with different flags: the host is hosted C,
# linked statically (musl when musl-gcc is there), the guest is
# freestanding and linked with linker/guest.ld.

BUILD   ?= build
MUSLGCC := $(shell command -v musl-gcc 2>/dev/null)
ifneq ($(MUSLGCC),)
HOSTCC  ?= musl-gcc
# musl's include path lacks the kernel's uapi headers: point it at links.
HOST_KINC := -isystem $(BUILD)/kinc
else
HOSTCC  ?= gcc
HOST_KINC :=
endif
CC_GUEST ?= gcc
NASM    ?= nasm

# Footprint (docs/benchmarks.md): both sides are built for size.  The host's
# hot path is one ioctl per exit, so -Os costs nothing measurable there and
# saves about 20 KiB; -ffunction-sections/-fdata-sections with --gc-sections
# drop what nothing calls (from musl too).  The guest is -Os as well, and
# the copy kvmini embeds is stripped (symbols stay in build/guest.elf for
# debugging), linked with -n, so its segments are not padded to page
# boundaries in the file (the loader places them by address, not offset),
# and packed (below).
# No unwind tables for the host either: kvmini is C, nothing unwinds
# through it (no exceptions, no backtrace()), and .eh_frame was 15 KB of
# the binary; gdb still walks the stack from the unstripped objects.
WARN    := -Wall -Wextra -Werror
HOST_CFLAGS  := -std=gnu11 -Os -ffunction-sections -fdata-sections $(WARN) -MMD -MP -Iinclude \
	-D_GNU_SOURCE -fno-asynchronous-unwind-tables -fno-unwind-tables $(HOST_KINC)
HOST_LDFLAGS := -static -pthread -Wl,-z,noexecstack -Wl,--gc-sections
GUEST_CFLAGS := -std=gnu11 -Os $(WARN) -MMD -MP -Iinclude -ffreestanding -nostdlib \
	-fno-pic -fno-pie -fno-stack-protector -fno-builtin -mno-red-zone -mno-sse \
	-mno-mmx -mno-sse2 -mno-avx -mcmodel=small -m64 -fno-asynchronous-unwind-tables
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-n -T linker/guest.ld

HOST_SRCS  := $(wildcard vmm/*.c) $(wildcard devices/*.c)
HOST_OBJS  := $(HOST_SRCS:%.c=$(BUILD)/host/%.o)
GUEST_ASM  := $(wildcard boot/*.asm)
GUEST_SRCS := $(wildcard guest/*.c)
GUEST_OBJS := $(GUEST_ASM:%.asm=$(BUILD)/guest/%.o) $(GUEST_SRCS:%.c=$(BUILD)/guest/%.o)

.PHONY: all clean test unit run bench size install uninstall
all: $(BUILD)/kvmini size

$(BUILD)/kinc/.stamp:
	@mkdir -p $(BUILD)/kinc
	@for d in linux asm-generic; do ln -sfn /usr/include/$$d $(BUILD)/kinc/$$d; done
	@ln -sfn /usr/include/$$(gcc -print-multiarch)/asm $(BUILD)/kinc/asm
	@touch $@

$(BUILD)/host/%.o: %.c $(BUILD)/kinc/.stamp
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC_GUEST) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.o: %.asm include/memmap.h
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -Iinclude/ -Iboot/ -MD $(@:.o=.d) -MP $< -o $@

$(BUILD)/guest.elf: $(GUEST_OBJS) linker/guest.ld
	$(CC_GUEST) $(GUEST_LDFLAGS) $(GUEST_OBJS) -o $@

# The guest ELF travels inside kvmini as a byte array: stripped, then
# packed with our own LZ77 (vmm/lzk.h; 45.6 KB to 32.7 KB), unpacked at
# start (the symbol names come from the file name: _binary_guest_lzk_*).
# The packer is a build tool, built for this machine with the host's gcc.
$(BUILD)/tools/lzkpack: tools/lzkpack.c vmm/lzk.c vmm/lzk.h
	@mkdir -p $(dir $@)
	gcc -std=gnu11 -O2 $(WARN) tools/lzkpack.c vmm/lzk.c -o $@

$(BUILD)/host/guest_blob.o: $(BUILD)/guest.elf $(BUILD)/tools/lzkpack
	@mkdir -p $(dir $@) $(BUILD)/embed
	strip -o $(BUILD)/embed/guest.elf $<
	$(BUILD)/tools/lzkpack $(BUILD)/embed/guest.elf $(BUILD)/embed/guest.lzk
	cd $(BUILD)/embed && objcopy -I binary -O elf64-x86-64 -B i386:x86-64 \
		--rename-section .data=.rodata,alloc,load,readonly,data,contents \
		guest.lzk ../host/guest_blob.o

$(BUILD)/kvmini: $(HOST_OBJS) $(BUILD)/host/guest_blob.o
	$(HOSTCC) $(HOST_LDFLAGS) $^ -o $@
	strip $@

size: $(BUILD)/kvmini
	@echo "kvmini: $$(stat -c %s $(BUILD)/kvmini) bytes (static, stripped; embedded guest $$(stat -c %s $(BUILD)/embed/guest.elf) bytes, packed $$(stat -c %s $(BUILD)/embed/guest.lzk))"

clean:
	rm -rf $(BUILD)

# PREFIX and DESTDIR as the GNU coding standards have them.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
install: $(BUILD)/kvmini
	install -D -m 0755 $(BUILD)/kvmini $(DESTDIR)$(BINDIR)/kvmini
	install -D -m 0644 docs/kvmini.1 $(DESTDIR)$(MANDIR)/man1/kvmini.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kvmini $(DESTDIR)$(MANDIR)/man1/kvmini.1

-include test/test.mk
-include test/bench/bench.mk

-include $(HOST_OBJS:.o=.d) $(GUEST_OBJS:.o=.d)
