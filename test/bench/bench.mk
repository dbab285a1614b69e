# test/bench/bench.mk - the start-up benchmark's own programs (make bench-tools),
# included by the Makefile.  None of them is part of kvmini:
#   floor     the bare KVM program: VM, one page, one vCPU
#   floor-irq the fair floor: floor + irqchip + PIT + 64 MiB RAM registered
#   timeit    exec-to-exit time and peak RSS of one command
#   exit.elf  a PVH image that triple-faults at once (kvmini and QEMU boot it)
.PHONY: bench-tools
BENCH_TOOLS := $(BUILD)/bench/floor $(BUILD)/bench/floor-irq $(BUILD)/bench/timeit $(BUILD)/bench/exit.elf
bench-tools: $(BENCH_TOOLS)

# Static and built with the host flags, so floor pays what kvmini pays to
# start a static musl program.
$(BUILD)/bench/%: test/bench/%.c $(BUILD)/kinc/.stamp
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) $< $(HOST_LDFLAGS) -o $@

$(BUILD)/bench/exit.elf: test/bench/exit.asm test/bench/exit.ld
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 $< -o $(BUILD)/bench/exit.o
	ld -T test/bench/exit.ld -nostdlib --build-id=none -s $(BUILD)/bench/exit.o -o $@
