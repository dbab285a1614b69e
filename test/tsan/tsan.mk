# test/tsan/tsan.mk - the device models under ThreadSanitizer (make test
# runs them with the unit tests).  Each test/tsan/tsan_<name>.c is built
# with gcc and -fsanitize=thread (glibc: TSan has no musl runtime; Debian's
# libtsan2, test/nested/deps.sh) together with the sources on its
# "// needs:" line(s), and prints TAP; a data race ends it with status 66.
#
#   make tsan          build and run them
#   make tsan-build    build only: $(BUILD)/tsan/tsan_<name>

.PHONY: tsan tsan-build

# -Wno-tsan: gcc warns that TSan does not model __atomic_thread_fence.
# virtq.c's fences order kvmini's accesses to the rings against the guest
# (another CPU, not a host thread), which TSan does not see anyway.
TSAN_CC     ?= gcc
TSAN_CFLAGS := -std=gnu11 -g -O1 $(WARN) -Wno-tsan -Iinclude -D_GNU_SOURCE -fsanitize=thread \
	-fno-omit-frame-pointer -pthread
TSAN_SRCS   := $(wildcard test/tsan/tsan_*.c)
TSAN_BINS   := $(TSAN_SRCS:test/tsan/%.c=$(BUILD)/tsan/%)

tsan_needs = $(shell sed -n 's,^// *needs: *,,p' test/tsan/$(1).c)

define TSAN_RULE
$(BUILD)/tsan/$(1): test/tsan/$(1).c $(call tsan_needs,$(1)) $(wildcard test/fuzz/*.h test/unit/tap.h \
		devices/*.[ch] vmm/*.[ch] include/*.h)
	@mkdir -p $$(dir $$@)
	$$(TSAN_CC) $$(TSAN_CFLAGS) $$< $(call tsan_needs,$(1)) -o $$@
endef
$(foreach t,$(TSAN_SRCS:test/tsan/%.c=%),$(eval $(call TSAN_RULE,$(t))))

tsan-build: $(TSAN_BINS)

tsan: tsan-build
	prove --timer -e '' $(TSAN_BINS)
