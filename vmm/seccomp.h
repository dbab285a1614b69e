/* SPDX-License-Identifier: MIT */
/*
 * seccomp.h - confinement: each kvmini thread, once its own setup is done,
 * installs a seccomp-bpf allowlist of the system calls (and ioctl requests)
 * its loop needs.  Anything else stops kvmini with one line naming the call
 * and exit status 12 (EXIT_SECCOMP).  docs/confinement.md has the tables.
 *
 * Ordering: set seccomp_enabled (--no-seccomp clears it) before any thread
 * starts; each thread calls seccomp_confine() for itself (a filter binds the
 * calling thread and the threads it creates later, never its siblings).
 */
#ifndef KVMINI_SECCOMP_H
#define KVMINI_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

/* The threads kvmini runs, each with its own allowlist. */
enum seccomp_thread {
	SECCOMP_VCPU,	     /* main thread: KVM_RUN loop, then teardown and --report */
	SECCOMP_IO,	     /* virtio-net I/O thread (devices/virtio_net.c) */
	SECCOMP_SERIAL,	     /* stdin reader for COM1 (devices/serial.c) */
	SECCOMP_VFIO_EVENTS, /* VFIO REQ/ERR watcher (devices/vfio.c) */
	SECCOMP_NTHREADS
};

#define SECCOMP_PROG_MAX 512 /* instructions; the largest list needs < 200 */

/* true unless --no-seccomp. */
extern bool seccomp_enabled;

/* Does the kernel offer seccomp filters?  Dies with EXIT_HOST if not (the
 * message says --no-seccomp).  Installs the SIGSYS handler that names a
 * forbidden call (a confined thread may not call sigaction).  Call once,
 * before any thread starts or confines itself. */
void seccomp_check(void);

/* Confine the calling thread with t's allowlist (no-op when disabled).  A
 * failure here prints one line and ends the process with EXIT_HOST: a thread
 * may be running already, so the process does not go on unconfined. */
void seccomp_confine(enum seccomp_thread t);

/* Build t's BPF program into prog[max]: its length, or -E2BIG. */
int seccomp_build(enum seccomp_thread t, struct sock_filter *prog, size_t max);

/* Figures: how many system calls / ioctl requests t may make. */
unsigned seccomp_nsyscalls(enum seccomp_thread t);
unsigned seccomp_nioctls(enum seccomp_thread t);
const char *seccomp_thread_name(enum seccomp_thread t);

/* "read", "ioctl", ... or NULL for a number the headers do not know. */
const char *seccomp_syscall_name(long nr);

/* Format the one-line message for a forbidden call into buf (NUL-ended,
 * truncated to len): what the SIGSYS handler writes.  Async-signal-safe. */
size_t seccomp_message(char *buf, size_t len, const char *thread, long nr, unsigned long arg1);

#endif
