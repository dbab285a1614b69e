/* SPDX-License-Identifier: MIT */
/*
 * serial.c - a 16550A UART at 0x3f8 (COM1, IRQ 4).
 *
 * Transmission is instant: every byte written to THR goes to stdout, so
 * the transmitter is always empty (LSR.THRE and LSR.TEMT set) and a THRE
 * interrupt, when enabled, is pending until the guest reads IIR or writes
 * THR again (16550 data sheet, "interrupt identification").  There is no
 * receive path yet: LSR.DR stays clear.  Divisor latch, scratch, modem
 * control and line control keep what the guest writes, so a driver that
 * probes them (Linux's 8250 driver does) sees a real 16550A.
 */
#include "serial.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "memmap.h"
#include "../vmm/trace.h"
#include "../vmm/vm.h"

#define UART_IRQ 4

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define LCR_DLAB 0x80
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_FIFO 0xc0 /* FIFOs enabled: says "16550A" to probing drivers */
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
} com1;

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
	if (c == '\n' || s->nline == sizeof(s->line))
		serial_flush();
}

static void serial_update_irq(struct serial *s)
{
	int level = (s->ier & IER_THRI) && s->thri_pending;

	if (level != s->irq_level) {
		s->irq_level = level;
		vm_irq_line(s->vm, UART_IRQ, level);
	}
}

static void serial_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct serial *s = opaque;
	uint8_t *v = data;

	if (len != 1) { /* the UART has byte registers only */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
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
		case RBR_THR: *v = (s->lcr & LCR_DLAB) ? s->dll : 0; break;
		case IER: *v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier; break;
		case IIR_FCR:
			if ((s->ier & IER_THRI) && s->thri_pending) {
				*v = IIR_THRI | ((s->fcr & 1) ? IIR_FIFO : 0);
				s->thri_pending = 0; /* reading IIR clears THRI */
			} else {
				*v = IIR_NONE | ((s->fcr & 1) ? IIR_FIFO : 0);
			}
			break;
		case LCR: *v = s->lcr; break;
		case MCR: *v = s->mcr; break;
		case LSR: *v = LSR_THRE | LSR_TEMT; break;
		case MSR:
			/* In loopback, MCR's outputs appear on MSR's inputs;
			 * otherwise report carrier, DSR and CTS present. */
			*v = (s->mcr & MCR_LOOP) ? (uint8_t)((s->mcr & 0x0c) << 4 | (s->mcr & 0x03) << 4)
						 : 0xb0;
			break;
		case SCR: *v = s->scr; break;
		}
	}
	serial_update_irq(s);
}

void serial_init(struct vm *vm)
{
	memset(&com1, 0, sizeof(com1));
	com1.vm = vm;
	if (bus_register(&vm->pio, PORT_COM1, 8, serial_io, &com1, "serial") < 0)
		die(EXIT_HOST, "internal: cannot place COM1 at 0x%x", PORT_COM1);
}
