// SPDX-License-Identifier: MIT
/*
 * errno-inject.c - run a command with one ioctl request refused.
 *
 *     errno-inject REQUEST ERRNO COMMAND [ARGS...]
 *
 * Installs a seccomp filter (inherited across exec) that answers every
 * ioctl whose request is REQUEST (0xae01 is KVM_CREATE_VM) with ERRNO and
 * lets everything else through, then runs COMMAND.  The nested smoke
 * scenario uses it to make a real KVM refuse what a real host sometimes
 * refuses (EBUSY from KVM_CREATE_VM when another hypervisor holds VT-x),
 * and compares `kvmini check` with the run.  kvmini's own filters stack
 * on top; the strictest answer wins, and kvmini allows these ioctls.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long req;
	unsigned long err;
	char *end;

	if (argc < 4) {
		fprintf(stderr, "usage: errno-inject REQUEST ERRNO COMMAND [ARGS...]\n");
		return 2;
	}
	req = strtoul(argv[1], &end, 0);
	if (*end || req > 0xffffffffUL)
		return fprintf(stderr, "errno-inject: bad request '%s'\n", argv[1]), 2;
	err = strtoul(argv[2], &end, 0);
	if (*end || !err || err > SECCOMP_RET_DATA)
		return fprintf(stderr, "errno-inject: bad errno '%s'\n", argv[2]), 2;

	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 3),
		/* The request's low 32 bits (x86-64 is little-endian): ioctl
		 * takes an unsigned int there. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)req, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("errno-inject: seccomp");
		return 2;
	}
	execvp(argv[3], argv + 3);
	fprintf(stderr, "errno-inject: %s: %s\n", argv[3], strerror(errno));
	return 127;
}
