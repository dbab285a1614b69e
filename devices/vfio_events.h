/* SPDX-License-Identifier: MIT */
/*
 * vfio_events.h - the host's REQ (give the device back) and ERR (AER)
 * interrupts of an assigned device, watched by one thread.
 *
 * Ordering: vfio_events_start() after the device fd is open and its IRQ
 * info read, on the vCPU thread (it records that thread for the kick);
 * vfio_events_stop() in the teardown before the device fd is closed.
 */
#ifndef KVMINI_VFIO_EVENTS_H
#define KVMINI_VFIO_EVENTS_H

#include <linux/vfio.h>
#include <pthread.h>
#include <stdbool.h>

struct vm;

struct vfio_events {
	struct vm *vm;
	int req_fd, err_fd, stop_fd; /* -1 when not in use */
	pthread_t thread;
	bool thread_up;
	bool req_seen; /* the host asked for the device (atomic) */
	char bdf[16];
	char why[160]; /* the line printed when the host asks */
};

/* Arm REQ and ERR where the device offers them (count > 0) and start the
 * watcher: 0, or -errno (eventfd or thread could not be made).  An index
 * the kernel refuses is a warning, not an error. */
int vfio_events_start(struct vfio_events *e, struct vm *vm, int devfd, const char *bdf,
		      const struct vfio_irq_info *err, const struct vfio_irq_info *req);
/* Stop the watcher, disarm both indexes (devfd >= 0), close the fds. */
void vfio_events_stop(struct vfio_events *e, int devfd);

#endif
