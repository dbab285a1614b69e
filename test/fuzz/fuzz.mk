# test/fuzz/fuzz.mk - coverage-guided fuzzing of the code that takes guest-
# or user-controlled input (docs/fuzzing.md).  `make test` runs each target
# for a few thousand executions (test/fuzz/fuzz.t); the long runs are here.
#
#   make fuzz FUZZ_S=N        build every target, run each N seconds (30)
#   make fuzz FUZZ_MAX_RUNS=M FUZZ_JOBS=2   stop each at M runs, two at once
#   make fuzz-build           build only: $(BUILD)/fuzz/fuzz_<name>
#   make fuzz FUZZ_TARGETS=virtq FUZZ_S=300   (FUZZ_SECONDS is the same knob)
#   make fuzz-smoke           what make test runs: FUZZ_RUNS (3000) each, TAP
#
# Each target is test/fuzz/fuzz_<name>.c linked with test/fuzz/stubs.c
# and the sources on its "// needs:" line(s), built with clang and
# -fsanitize=fuzzer,address,undefined.  A crash, a sanitizer report or a
# violated invariant (abort) fails the run and leaves the input in
# $(BUILD)/fuzz/<name>/crash-*.  New corpus entries go to $(BUILD)/fuzz/
# <name>/corpus; the seeds in test/fuzz/corpus/<name>/ are read, never written.

.PHONY: fuzz fuzz-build fuzz-smoke

FUZZ_CC      ?= $(shell command -v clang-14 2>/dev/null || echo clang)
FUZZ_S       ?= 30
FUZZ_SECONDS ?= $(FUZZ_S)
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_SRCS    := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_ALL     := $(FUZZ_SRCS:test/fuzz/fuzz_%.c=%)
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

fuzz_needs = $(shell sed -n 's,^// *needs: *,,p' test/fuzz/fuzz_$(1).c)

define FUZZ_RULE
$(BUILD)/fuzz/fuzz_$(1): test/fuzz/fuzz_$(1).c test/fuzz/stubs.c $(wildcard test/fuzz/*.h) \
		$(call fuzz_needs,$(1)) $(wildcard devices/*.[ch] vmm/*.[ch] include/*.h)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) test/fuzz/fuzz_$(1).c test/fuzz/stubs.c $(call fuzz_needs,$(1)) -o $$@
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call FUZZ_RULE,$(t))))

fuzz-build: $(FUZZ_BINS)

fuzz-smoke:
	prove -v --timer -e '' test/fuzz/fuzz.t

# FUZZ_JOBS targets at once (1: the machine is shared; 2 uses both cores of
# the build machine), each until FUZZ_SECONDS or FUZZ_MAX_RUNS executions,
# whichever comes first.  The issue's long run is
#   make fuzz FUZZ_S=7200 FUZZ_MAX_RUNS=10000000 FUZZ_JOBS=2
# Every target runs even if one fails; the make fails if any did.
FUZZ_JOBS     ?= 1
FUZZ_MAX_RUNS ?= 0
fuzz: fuzz-build
	@printf '%s\n' $(FUZZ_TARGETS) | BUILD=$(BUILD) xargs -P $(FUZZ_JOBS) -I{} \
		sh test/fuzz/run.sh {} $(FUZZ_SECONDS) $(FUZZ_MAX_RUNS) && \
		echo "== fuzz: no crash in $(FUZZ_TARGETS)" || \
		{ echo "== fuzz: a target failed (FAILED above)"; exit 1; }

# Line coverage the corpora reach: each target rebuilt with clang's source
# coverage, run once over $(BUILD)/fuzz/<name>/corpus and the seeds, and
# llvm-cov's summary for the sources under test (not the harness).
FUZZ_COV_FLAGS := -std=gnu11 -g -O0 -Iinclude -D_GNU_SOURCE -fsanitize=fuzzer \
	-fprofile-instr-generate -fcoverage-mapping
LLVM_PROFDATA ?= $(shell command -v llvm-profdata-14 2>/dev/null || echo llvm-profdata)
LLVM_COV      ?= $(shell command -v llvm-cov-14 2>/dev/null || echo llvm-cov)

.PHONY: fuzz-cov
fuzz-cov:
	@set -e; for t in $(FUZZ_TARGETS); do \
		src=$$(sed -n 's,^// *needs: *,,p' test/fuzz/fuzz_$$t.c); \
		src="$$src $$(sed -n 's,^#include "\.\./\.\./\(.*\.c\)",\1,p' test/fuzz/fuzz_$$t.c)"; \
		mkdir -p $(BUILD)/fuzz/$$t/corpus; \
		$(FUZZ_CC) $(FUZZ_COV_FLAGS) test/fuzz/fuzz_$$t.c test/fuzz/stubs.c \
			$$(sed -n 's,^// *needs: *,,p' test/fuzz/fuzz_$$t.c) -o $(BUILD)/fuzz/cov_$$t; \
		LLVM_PROFILE_FILE=$(BUILD)/fuzz/$$t.profraw $(BUILD)/fuzz/cov_$$t -runs=0 \
			$(BUILD)/fuzz/$$t/corpus $$(ls -d test/fuzz/corpus/$$t 2>/dev/null) >/dev/null 2>&1; \
		$(LLVM_PROFDATA) merge -sparse $(BUILD)/fuzz/$$t.profraw -o $(BUILD)/fuzz/$$t.profdata; \
		echo "== fuzz-cov $$t"; \
		$(LLVM_COV) report $(BUILD)/fuzz/cov_$$t -instr-profile=$(BUILD)/fuzz/$$t.profdata \
			$$src | sed -n '1p;3,$$p'; \
	done
