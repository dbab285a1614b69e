/* SPDX-License-Identifier: MIT */
/*
 * no_io_thread.h - include just before devices/virtio_net.c: its I/O
 * thread is not started.  The vnet targets run the thread's loop body on
 * the fuzzer's thread anyway (vnet_harness.h), and used to start the real
 * thread and stop it at once, for every input.  ASan keeps about 1 KB of
 * bookkeeping for every thread a process ever created, and never gives it
 * back: at 10 million inputs that passed libFuzzer's 2 GB limit, with
 * nothing leaked by kvmini.  Here pthread_create() records no thread and
 * pthread_join() has none to wait for; everything else vnet_start() and
 * the stop do (the epoll set, the wake-up write) is the real code.
 */
#ifndef KVMINI_FUZZ_NO_IO_THREAD_H
#define KVMINI_FUZZ_NO_IO_THREAD_H

#include <pthread.h>

static int fuzz_no_thread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
				 void *arg)
{
	(void)attr, (void)fn, (void)arg;
	*t = 0;
	return 0;
}

static int fuzz_no_thread_join(pthread_t t, void **ret)
{
	(void)t;
	if (ret)
		*ret = NULL;
	return 0;
}

#define pthread_create fuzz_no_thread_create
#define pthread_join fuzz_no_thread_join

#endif
