/* SPDX-License-Identifier: MIT */
/*
 * serial.c - a 16550A UART at 0x3f8 (COM1, IRQ 4).
 *
 * Transmission is instant: every byte written to THR goes to stdout (a
 * string exit, rep outsb, hands over a whole burst at once), so
 * the transmitter is always empty (LSR.THRE and LSR.TEMT set) and a THRE
 * interrupt, when enabled, is pending until the guest reads IIR or writes
 * THR again (16550 data sheet, "interrupt identification").
 *
 * Reception: a reader thread blocks on kvmini's stdin and queues what it
 * reads; LSR.DR says a byte waits in RBR, and with IER.ERBFI the
 * received-data interrupt (IIR 0x04, above THRE in priority) is raised
 * until the queue is drained.  The queue is larger than a 16550's FIFO so
 * a pasted line is not lost; when it is full the reader waits for the
 * guest instead of dropping bytes.  With stdin at EOF (CI: /dev/null) the
 * thread simply ends.  The lock covers the registers because the reader
 * and the vCPU thread both change them.  Divisor latch, scratch, modem
 * control and line control keep what the guest writes, so a driver that
 * probes them (Linux's 8250 driver does) sees a real 16550A.
 */
#include "serial.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "memmap.h"
#include "../vmm/seccomp.h"
#include "../vmm/trace.h"
#include "../vmm/vm.h"

#define UART_IRQ 4

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define LCR_DLAB 0x80
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0 /* FIFOs enabled: says "16550A" to probing drivers */
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10

static struct serial {
	struct vm *vm;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	int thri_pending;
	int irq_level;
	char line[256];
	size_t nline;
	pthread_mutex_t lock;
	pthread_cond_t rx_space;
	uint8_t rx[1024]; /* received, not yet read by the guest */
	size_t rx_head, rx_count;
	bool tty; /* stdout is a terminal: show partial lines (prompts) at once */
	bool reader_started; /* vCPU thread only */
} com1 = {.lock = PTHREAD_MUTEX_INITIALIZER, .rx_space = PTHREAD_COND_INITIALIZER};

void serial_flush(void)
{
	if (com1.nline) {
		fwrite(com1.line, 1, com1.nline, stdout);
		com1.nline = 0;
	}
	fflush(stdout);
}

static void serial_out(struct serial *s, uint8_t c)
{
	s->line[s->nline++] = c;
	if (c == '\n' || s->nline == sizeof(s->line) || s->tty)
		serial_flush();
}

static void serial_update_irq(struct serial *s)
{
	int level = ((s->ier & IER_THRI) && s->thri_pending) || ((s->ier & IER_RDI) && s->rx_count);

	if (level != s->irq_level) {
		s->irq_level = level;
		vm_irq_line(s->vm, UART_IRQ, level);
	}
}

/* One byte access to register off; the caller holds the lock. */
static void serial_reg(struct serial *s, uint64_t off, uint8_t *v, bool is_write)
{
	if (is_write) {
		switch (off) {
		case RBR_THR:
			if (s->lcr & LCR_DLAB) {
				s->dll = *v;
			} else {
				if (!(s->mcr & MCR_LOOP))
					serial_out(s, *v);
				s->thri_pending = 1;
			}
			break;
		case IER:
			if (s->lcr & LCR_DLAB) {
				s->dlm = *v;
			} else {
				/* Enabling THRI with an empty THR raises it. */
				if ((*v & IER_THRI) && !(s->ier & IER_THRI))
					s->thri_pending = 1;
				s->ier = *v & 0x0f;
			}
			break;
		case IIR_FCR: s->fcr = *v; break;
		case LCR: s->lcr = *v; break;
		case MCR: s->mcr = *v & 0x1f; break;
		case SCR: s->scr = *v; break;
		default: break; /* LSR and MSR are read-only */
		}
	} else {
		switch (off) {
		case RBR_THR:
			if (s->lcr & LCR_DLAB) {
				*v = s->dll;
			} else if (s->rx_count) {
				*v = s->rx[s->rx_head];
				s->rx_head = (s->rx_head + 1) % sizeof(s->rx);
				if (s->rx_count-- == sizeof(s->rx))
					pthread_cond_signal(&s->rx_space);
			} else {
				*v = 0;
			}
			break;
		case IER: *v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier; break;
		case IIR_FCR:
			if ((s->ier & IER_RDI) && s->rx_count) {
				/* Received data outranks THRE and leaves it pending. */
				*v = IIR_RDI | ((s->fcr & 1) ? IIR_FIFO : 0);
			} else if ((s->ier & IER_THRI) && s->thri_pending) {
				*v = IIR_THRI | ((s->fcr & 1) ? IIR_FIFO : 0);
				s->thri_pending = 0; /* reading IIR clears THRI */
			} else {
				*v = IIR_NONE | ((s->fcr & 1) ? IIR_FIFO : 0);
			}
			break;
		case LCR: *v = s->lcr; break;
		case MCR: *v = s->mcr; break;
		case LSR: *v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0); break;
		case MSR:
			/* In loopback, MCR's outputs appear on MSR's inputs;
			 * otherwise report carrier, DSR and CTS present. */
			*v = (s->mcr & MCR_LOOP) ? (uint8_t)((s->mcr & 0x0c) << 4 | (s->mcr & 0x03) << 4)
						 : 0xb0;
			break;
		case SCR: *v = s->scr; break;
		}
	}
}

static void serial_start_reader(struct serial *s);

static void serial_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct serial *s = opaque;

	if (len != 1) { /* the UART has byte registers only */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!s->reader_started)
		serial_start_reader(s);
	pthread_mutex_lock(&s->lock);
	serial_reg(s, off, data, is_write);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* A string exit (rep outsb/insb at one register): count bytes in one go,
 * under one lock and with one interrupt update.  A burst to THR is what a
 * FIFO driver sends when THRE says the FIFO is empty; with the instant
 * transmitter here every byte leaves at once, in order.  Anything else
 * goes register access by register access, exactly as count single
 * accesses would. */
static void serial_io_string(void *opaque, uint64_t off, uint8_t *data, uint32_t size,
			     uint32_t count, bool is_write)
{
	struct serial *s = opaque;

	if (size != 1) {
		if (!is_write)
			memset(data, 0xff, (size_t)size * count);
		return;
	}
	if (!s->reader_started)
		serial_start_reader(s);
	pthread_mutex_lock(&s->lock);
	if (is_write && off == RBR_THR && !(s->lcr & LCR_DLAB)) {
		if (!(s->mcr & MCR_LOOP))
			for (uint32_t i = 0; i < count; i++)
				serial_out(s, data[i]);
		s->thri_pending = 1;
	} else {
		for (uint32_t i = 0; i < count; i++)
			serial_reg(s, off, &data[i], is_write);
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* The reader thread: stdin -> receive queue, waiting when it is full. */
static void *serial_reader(void *arg)
{
	struct serial *s = arg;
	uint8_t buf[64];

	seccomp_confine(SECCOMP_SERIAL);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL; /* EOF or no stdin: the guest just gets no input */
		pthread_mutex_lock(&s->lock);
		for (ssize_t i = 0; i < n; i++) {
			while (s->rx_count == sizeof(s->rx))
				pthread_cond_wait(&s->rx_space, &s->lock);
			s->rx[(s->rx_head + s->rx_count) % sizeof(s->rx)] = buf[i];
			s->rx_count++;
			serial_update_irq(s);
		}
		pthread_mutex_unlock(&s->lock);
	}
}

/* The reader thread starts at the guest's first access to the UART: a
 * guest that never looks at COM1 has no use for input, and does not pay
 * for a thread.  Called from the vCPU thread, where SIGINT/SIGTERM are
 * unblocked: the reader gets every signal blocked, so they still go to
 * the vCPU thread.  Detached: at exit it may still sit in read(), which
 * is harmless. */
static void serial_start_reader(struct serial *s)
{
	pthread_t t;
	pthread_attr_t attr;
	sigset_t all, old;

	s->reader_started = true;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, serial_reader, s))
		warn("cannot start the serial input thread: the guest gets no input");
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void serial_init(struct vm *vm)
{
	com1.vm = vm;
	com1.tty = isatty(STDOUT_FILENO);
	if (bus_register(&vm->pio, PORT_COM1, 8, serial_io, &com1, "serial") < 0 ||
	    bus_set_string(&vm->pio, PORT_COM1, &com1, serial_io_string) < 0)
		die(EXIT_HOST, "internal: cannot place COM1 at 0x%x", PORT_COM1);
}
