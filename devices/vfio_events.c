// SPDX-License-Identifier: MIT
/*
 * vfio_events.c - what the host says about the assigned device while the
 * guest runs: the REQ and ERR interrupt indexes of vfio-pci.
 *
 * REQ (VFIO_PCI_REQ_IRQ_INDEX): the host wants the device back (an unbind
 * from vfio-pci, a hot-unplug, `echo 1 > /sys/bus/pci/devices/BDF/remove`).
 * The kernel signals the eventfd and then waits, repeating the request
 * every 10 s, until every fd of the device is closed.  kvmini answers by
 * stopping the guest with EXIT_VFIO_REQ: the at-exit teardown then resets
 * the device, unmaps its DMA and closes its fds, and the host's removal
 * completes.
 *
 * ERR (VFIO_PCI_ERR_IRQ_INDEX): an AER error was reported for the device
 * (PCIe devices only; the index has count 0 otherwise).  kvmini counts it
 * (STAT_VFIO_ERR, in --stats and the --report counters), says so in a
 * warning and the vfio trace, and lets the guest go on: it sees whatever
 * the device does after the error, and its own checks decide.
 *
 * One thread waits on both eventfds (and a stop eventfd for teardown): the
 * vCPU thread sits in KVM_RUN and cannot.  It is confined by its own
 * seccomp allowlist (SECCOMP_VFIO_EVENTS).
 */
#include "vfio_events.h"

#include <errno.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../vmm/seccomp.h"
#include "../vmm/trace.h"
#include "../vmm/vcpu.h"
#include "../vmm/vm.h"

/* One eventfd on index (fd >= 0), or none (fd < 0: DATA_NONE, count 0). */
static int trigger(int devfd, unsigned index, int fd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *s = (struct vfio_irq_set *)buf;
	int32_t efd = fd;

	memset(buf, 0, sizeof(buf));
	s->argsz = sizeof(*s) + (fd >= 0 ? sizeof(int32_t) : 0);
	s->flags = VFIO_IRQ_SET_ACTION_TRIGGER |
		   (fd >= 0 ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	s->index = index;
	s->count = fd >= 0 ? 1 : 0;
	if (fd >= 0)
		memcpy(s->data, &efd, sizeof(efd));
	return ioctl(devfd, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
}

static uint64_t drain(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void *events_thread(void *arg)
{
	struct vfio_events *e = arg;
	struct pollfd p[3] = {
	    {.fd = e->stop_fd, .events = POLLIN},
	    {.fd = e->req_fd, .events = POLLIN},
	    {.fd = e->err_fd, .events = POLLIN},
	};

	seccomp_confine(SECCOMP_VFIO_EVENTS);
	for (;;) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			warn("vfio %s: poll: %s; host requests are no longer watched", e->bdf,
			     strerror(errno));
			return NULL;
		}
		if (p[0].revents)
			return NULL;
		if (p[2].revents & POLLIN) {
			uint64_t n = drain(e->err_fd);

			__atomic_add_fetch(&stats[STAT_VFIO_ERR], n, __ATOMIC_RELAXED);
			warn("vfio %s: the host reported an error on the device (AER, VFIO ERR "
			     "interrupt, %llu so far); the guest goes on",
			     e->bdf, (unsigned long long)stats[STAT_VFIO_ERR]);
			trace(TRACE_VFIO, "err: AER error signalled by the host (%llu)",
			      (unsigned long long)n);
		}
		if (p[1].revents & POLLIN) {
			uint64_t n = drain(e->req_fd);

			__atomic_add_fetch(&stats[STAT_VFIO_REQ], n, __ATOMIC_RELAXED);
			__atomic_store_n(&e->req_seen, true, __ATOMIC_SEQ_CST);
			trace(TRACE_VFIO,
			      "req: the host asks for the device back: stopping the guest");
			vcpu_request_exit(e->vm, EXIT_VFIO_REQ, e->why);
		}
	}
}

static int arm(struct vfio_events *e, int devfd, unsigned index, const struct vfio_irq_info *q,
	       int *fd, const char *what)
{
	int ret;

	if (!q->count || !(q->flags & VFIO_IRQ_INFO_EVENTFD)) {
		trace(TRACE_VFIO, "irq: %s: the device offers none%s", what,
		      index == VFIO_PCI_ERR_IRQ_INDEX ? " (not PCIe, or no AER)" : "");
		return 0;
	}
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0)
		return -errno;
	ret = trigger(devfd, index, *fd);
	if (ret) {
		warn("vfio %s: cannot watch %s: %s", e->bdf, what, strerror(-ret));
		close(*fd);
		*fd = -1;
		return 0; /* the guest still runs; the host's removal will wait */
	}
	trace(TRACE_VFIO, "irq: %s on: eventfd watched by the vfio events thread", what);
	return 0;
}

int vfio_events_start(struct vfio_events *e, struct vm *vm, int devfd, const char *bdf,
		      const struct vfio_irq_info *err, const struct vfio_irq_info *req)
{
	int ret;

	memset(e, 0, sizeof(*e));
	e->vm = vm;
	e->req_fd = e->err_fd = e->stop_fd = -1;
	snprintf(e->bdf, sizeof(e->bdf), "%s", bdf);
	snprintf(e->why, sizeof(e->why),
		 "the host asked for the assigned device %s back (VFIO request): guest stopped, "
		 "device released",
		 bdf);
	ret = arm(e, devfd, VFIO_PCI_REQ_IRQ_INDEX, req, &e->req_fd, "REQ (host wants it back)");
	if (!ret)
		ret = arm(e, devfd, VFIO_PCI_ERR_IRQ_INDEX, err, &e->err_fd, "ERR (AER)");
	if (ret)
		return ret;
	if (e->req_fd < 0 && e->err_fd < 0)
		return 0;
	e->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->stop_fd < 0)
		return -errno;
	vcpu_kick_init(); /* on the vCPU thread: vfio_init runs there */
	ret = -pthread_create(&e->thread, NULL, events_thread, e);
	if (ret)
		return ret;
	e->thread_up = true;
	return 0;
}

void vfio_events_stop(struct vfio_events *e, int devfd)
{
	uint64_t one = 1;

	if (e->thread_up) {
		if (write(e->stop_fd, &one, sizeof(one)) != sizeof(one))
			(void)0; /* cannot fail on a fresh eventfd */
		pthread_join(e->thread, NULL);
		e->thread_up = false;
	}
	if (devfd >= 0) {
		if (e->req_fd >= 0)
			trigger(devfd, VFIO_PCI_REQ_IRQ_INDEX, -1);
		if (e->err_fd >= 0)
			trigger(devfd, VFIO_PCI_ERR_IRQ_INDEX, -1);
	}
	if (e->req_fd >= 0)
		close(e->req_fd);
	if (e->err_fd >= 0)
		close(e->err_fd);
	if (e->stop_fd >= 0)
		close(e->stop_fd);
	e->req_fd = e->err_fd = e->stop_fd = -1;
}
