# test/test.mk - the test rig, included by the Makefile.
#
#   make deps       install the Debian packages the build and tests need
#                   (as root; only what is missing, so a second run is quick)
#   make unit       build and run the unit tests (TAP, through prove)
#   make crosscheck the tiny guest booted directly under QEMU (no KVM)
#   make nested     the nested KVM test: kvmini inside an L1 Linux under QEMU
#   make test       deps, build, then unit, the fuzz targets' short runs
#                   (test/fuzz/fuzz.t), crosscheck and nested, as one TAP run
#   make run        the demo: build/kvmini directly with /dev/kvm, else in L1
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

.PHONY: deps unit unit-build crosscheck nested test run bench

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

deps:
	@test/nested/deps.sh

unit-build: $(UNIT_BINS)

unit: unit-build
	prove --timer -e '' $(UNIT_BINS)

crosscheck: $(BUILD)/guest.elf
	prove -v --timer -e '' test/qemu/crosscheck.t

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
	$(MAKE) --no-print-directory -k unit-build || { fail=1; echo "== make test: UNIT TEST BUILD FAILED"; }; \
	bins=; for b in $(UNIT_BINS); do [ -x $$b ] && bins="$$bins $$b"; done; \
	stage "4/4 tests: unit, fuzz targets (short), QEMU cross-check, nested KVM"; \
	prove -v --timer -e '' $$bins test/fuzz/fuzz.t test/qemu/crosscheck.t test/nested/nested.t || fail=1; \
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

bench: deps
	@$(MAKE) --no-print-directory all
	@test/nested/bench.sh

# make fuzz, fuzz-build, fuzz-cov, fuzz-smoke: libFuzzer targets (docs/fuzzing.md); make test
# runs fuzz-smoke's test/fuzz/fuzz.t.
-include test/fuzz/fuzz.mk
