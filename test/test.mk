# test/test.mk - the test rig, included by the Makefile.
#
#   make deps       install the Debian packages the build and tests need
#                   (as root; only what is missing, so a second run is quick)
#   make unit       build and run the unit tests (TAP, through prove)
#   make tsan       the device models under ThreadSanitizer (test/tsan/)
#   make crosscheck the tiny guest (ELF64 and ELF32) and the Multiboot test
#                   kernel booted directly under QEMU (no KVM)
#   make nested     the nested KVM test: kvmini inside an L1 Linux under QEMU
#   make test       deps, build, then unit, tsan, the fuzz targets' short runs
#                   (test/fuzz/fuzz.t), crosscheck and nested, as one TAP run
#   make run        the demo: build/kvmini directly with /dev/kvm, else in L1
#   make shell      the demo in L1, then a shell there (docs/tour.md)
#   make install    (Makefile) binary and kvmini(1) under DESTDIR/PREFIX
#   make bench      benchmark scenarios in L1 (test/nested/bench/)
#
# Unit tests: drop test/unit/test_X.c; it is built into $(BUILD)/test/test_X
# with the host flags and linked with the host sources named on its
# "// needs: a.c b.c" line(s) (several lines add up).  Without such a line
# it is linked with vmm/X.c, devices/X.c or guest/X.c, whichever exists.
# test/unit/tap.h prints TAP for it.
#
# Knobs: KVMINI_ARGS (make run with /dev/kvm), RUN_ARGS (kvmini's options
# in L1 for make run; default: the full demo with what this kvmini knows),
# NESTED_SCENARIOS (names from test/nested/scenarios/), BENCH (names from
# test/nested/bench/), L1_ACCEL (tcg/kvm), KVMINI_CACHE (kernel cache).

.PHONY: deps unit unit-build crosscheck nested test run shell bench

UNIT_SRCS := $(wildcard test/unit/test_*.c)
UNIT_NAMES := $(UNIT_SRCS:test/unit/%.c=%)
UNIT_BINS := $(UNIT_NAMES:%=$(BUILD)/test/%)

# The sources a unit test links with: its "// needs:" lines, else X.c.
unit_needs = $(or $(shell sed -n 's,^// *needs: *,,p' test/unit/$(1).c),\
	$(firstword $(wildcard $(addsuffix /$(1:test_%=%).c,vmm devices guest))))

define UNIT_RULE
$(BUILD)/test/$(1): test/unit/$(1).c test/unit/tap.h $(BUILD)/kinc/.stamp \
		$(patsubst %.c,$(BUILD)/host/%.o,$(call unit_needs,$(1)))
	@mkdir -p $$(dir $$@)
	$$(HOSTCC) $$(HOST_CFLAGS) -Itest/unit $$< \
		$(patsubst %.c,$(BUILD)/host/%.o,$(call unit_needs,$(1))) $$(HOST_LDFLAGS) -o $$@
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call UNIT_RULE,$(t))))
-include $(UNIT_BINS:=.d)
# The dependency files of what the tests link that kvmini does not (such
# as test/fuzz/stubs.o): without them a changed header leaves it stale.
UNIT_NEED_OBJS := $(sort $(foreach t,$(UNIT_NAMES),$(patsubst %.c,$(BUILD)/host/%.o,$(call unit_needs,$(t)))))
-include $(filter-out $(HOST_OBJS:.o=.d),$(UNIT_NEED_OBJS:.o=.d))

# Images the loader tests boot under kvmini and under QEMU: a second link
# of the tiny guest as an ELF32 (same code, PVH note unchanged), and the
# Multiboot test kernel (test/multiboot/).
TEST_IMAGES := $(BUILD)/guest32.elf $(BUILD)/test/mbtest.elf $(BUILD)/test/mbtest-aout.bin \
	$(BUILD)/test/mbmodule.txt $(BUILD)/bench/exit.elf $(BUILD)/test/smptest.elf \
	$(BUILD)/test/mbtest-low.elf $(BUILD)/test/s3test.elf
all: $(TEST_IMAGES)

# The test kernels %include test/multiboot/lib.inc, named as a
# prerequisite by hand: nasm 2.16.01's -MD leaves %include'd files out.
MB_NASM = $(NASM) -Itest/multiboot/
MB_LIB = test/multiboot/lib.inc

$(BUILD)/guest32.elf: $(BUILD)/guest.elf
	objcopy -O elf32-i386 $< $@

$(BUILD)/test/mbtest.o: test/multiboot/mbtest.asm $(MB_LIB)
	@mkdir -p $(dir $@)
	$(MB_NASM) -f elf32 $< -o $@

$(BUILD)/test/mbtest.elf: $(BUILD)/test/mbtest.o test/multiboot/mbtest.ld
	ld -m elf_i386 -T test/multiboot/mbtest.ld --build-id=none -z noexecstack $< -o $@

# The same kernel linked at 0x1000, over the usual boot block (issue 19).
$(BUILD)/test/mbtest-low.elf: $(BUILD)/test/mbtest.o test/multiboot/mbtest-low.ld
	ld -m elf_i386 -T test/multiboot/mbtest-low.ld --build-id=none -z noexecstack $< -o $@

# The S3 test kernel (docs/test-kernels.md), linked like smptest.
$(BUILD)/test/s3test.o: test/multiboot/s3test.asm $(MB_LIB)
	@mkdir -p $(dir $@)
	$(MB_NASM) -f elf32 $< -o $@

$(BUILD)/test/s3test.elf: $(BUILD)/test/s3test.o test/multiboot/smptest.ld
	ld -m elf_i386 -T test/multiboot/smptest.ld --build-id=none -z noexecstack $< -o $@

# The SMP test kernel (docs/test-kernels.md).
$(BUILD)/test/smptest.o: test/multiboot/smptest.asm $(MB_LIB)
	@mkdir -p $(dir $@)
	$(MB_NASM) -f elf32 $< -o $@

$(BUILD)/test/smptest.elf: $(BUILD)/test/smptest.o test/multiboot/smptest.ld
	ld -m elf_i386 -T test/multiboot/smptest.ld --build-id=none -z noexecstack $< -o $@

# The same kernel as a flat binary located by the a.out-kludge fields.
$(BUILD)/test/mbtest-aout.bin: test/multiboot/mbtest.asm $(MB_LIB)
	@mkdir -p $(dir $@)
	$(MB_NASM) -f bin -DAOUT $< -o $@

$(BUILD)/test/mbmodule.txt: test/multiboot/module.txt
	@mkdir -p $(dir $@)
	cp $< $@

# A command run with one ioctl refused (test/check/errno-inject.c): the
# nested smoke scenario makes KVM refuse with it.
all: $(BUILD)/test/errno-inject
$(BUILD)/test/errno-inject: test/check/errno-inject.c $(BUILD)/kinc/.stamp
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) $< $(HOST_LDFLAGS) -o $@

# kvmini built with one forbidden system call right after the vCPU thread
# confines itself (vmm/main.c, test_forbidden_call): test_seccomp runs
# kvmini-forbidden (uname) where /dev/kvm is; the nested confinement
# scenario runs every one in L1.
FORBIDDEN := creat:2 mprotect-exec:3 mmap-exec:4 clone-newnet:5
FORBIDDEN_BINS := $(BUILD)/test/kvmini-forbidden \
	$(foreach f,$(FORBIDDEN),$(BUILD)/test/kvmini-forbidden-$(firstword $(subst :, ,$(f))))
all: $(FORBIDDEN_BINS)
$(FORBIDDEN_BINS): $(BUILD)/test/kvmini-forbidden%: vmm/main.c \
		$(filter-out $(BUILD)/host/vmm/main.o,$(HOST_OBJS)) $(BUILD)/host/guest_blob.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -DKVMINI_TEST_FORBIDDEN_SYSCALL=$(or $(lastword $(subst :, ,$(filter $(*:-%=%):%,$(FORBIDDEN)))),1) -c $< -o $@.o
	$(HOSTCC) $(HOST_LDFLAGS) $@.o $(filter-out $<,$^) -o $@
$(BUILD)/test/test_seccomp: $(BUILD)/test/kvmini-forbidden

# The mutation check of hostile step 3 (docs/hostile-guest.md): kvmini
# without the PCI core's refusals of a BAR over RAM, ECAM, the LAPIC or the
# IOAPIC; the hostile run must fail with it (confinement.sh).
all: $(BUILD)/test/kvmini-no-bar-refusals
$(BUILD)/test/kvmini-no-bar-refusals: devices/pci.c \
		$(filter-out $(BUILD)/host/devices/pci.o,$(HOST_OBJS)) $(BUILD)/host/guest_blob.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -DKVMINI_TEST_NO_BAR_REFUSALS -c $< -o $@.o
	$(HOSTCC) $(HOST_LDFLAGS) $@.o $(filter-out $<,$^) -o $@

# The call graph test/seccomp/allowlists.t derives each thread's allowlist
# from: kvmini's sources again at -O0 (no inlining: every function is a
# node, every call an edge with its line), GCC's -fcallgraph-info beside
# each object, and the final GIMPLE dump (the type of every indirect call's
# pointer and of every function).
CALLGRAPH := $(HOST_SRCS:%.c=$(BUILD)/callgraph/%.ci)
$(BUILD)/callgraph/%.ci: %.c $(BUILD)/kinc/.stamp
	@mkdir -p $(dir $@)
	rm -f $(dir $@)$(notdir $(<:.c=)).c.*.optimized
	$(HOSTCC) $(HOST_CFLAGS) -O0 -fcallgraph-info -fdump-tree-optimized-lineno -c $< -o $(@:.ci=.o)
-include $(CALLGRAPH:.ci=.d)
callgraph: $(CALLGRAPH)
.PHONY: callgraph

deps:
	@test/nested/deps.sh

unit-build: $(UNIT_BINS)

unit: unit-build callgraph
	prove --timer -e '' $(UNIT_BINS) test/seccomp/allowlists.t

crosscheck: $(BUILD)/guest.elf $(TEST_IMAGES)
	prove -v --timer -e '' test/qemu/*.t

nested: $(BUILD)/kvmini
	prove -v --timer -e '' test/nested/nested.t

# One prove run over everything, so the last lines say how it all went.
# A build that fails does not stop the tests that can still run (the
# others then fail with a clear line), but it fails the whole.
test:
	@t0=$$(date +%s); fail=0; \
	stage() { echo "== make test: $$1 ($$(($$(date +%s) - t0)) s so far)"; }; \
	stage "1/4 deps"; \
	$(MAKE) --no-print-directory deps || exit 1; \
	stage "2/4 build"; \
	$(MAKE) --no-print-directory all || { fail=1; echo "== make test: BUILD FAILED"; }; \
	stage "3/4 unit test build"; \
	$(MAKE) --no-print-directory -k unit-build tsan-build callgraph || { fail=1; echo "== make test: UNIT TEST BUILD FAILED"; }; \
	bins=; for b in $(UNIT_BINS) $(TSAN_BINS); do [ -x $$b ] && bins="$$bins $$b"; done; \
	stage "4/4 tests: unit, tsan, fuzz targets (short), install, usage, report, check, loader, QEMU cross-checks, nested KVM"; \
	prove -v --timer -e '' $$bins test/seccomp/allowlists.t test/fuzz/fuzz.t test/install.t test/usage.t test/report/report.t test/check/*.t test/loader/*.t test/qemu/*.t test/nested/nested.t || fail=1; \
	stage "done, $$([ $$fail = 0 ] && echo PASS || echo FAIL)"; \
	exit $$fail

run: deps
	@$(MAKE) --no-print-directory all
	@if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ "$(L1_ACCEL)" != tcg ]; then \
		echo "== make run: /dev/kvm here: $(BUILD)/kvmini $(KVMINI_ARGS)"; \
		$(BUILD)/kvmini $(KVMINI_ARGS); \
	else \
		test/nested/run.sh; \
	fi

# Always in L1, even with /dev/kvm here: the classroom has the IOMMU, edu
# bound to vfio-pci and a tap (test/nested/run.sh, RUN_SHELL).
shell: deps
	@$(MAKE) --no-print-directory all
	@RUN_SHELL=1 test/nested/run.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@test/nested/bench.sh

# make fuzz, fuzz-build, fuzz-cov, fuzz-smoke: libFuzzer targets (docs/fuzzing.md); make test
# runs fuzz-smoke's test/fuzz/fuzz.t.
-include test/fuzz/fuzz.mk
-include test/tsan/tsan.mk
