// SPDX-License-Identifier: MIT
/*
 * console.c - COM1 output and a small printf.
 *
 * The UART is polled: wait for the Line Status Register's THRE bit, then
 * write.  With the FIFO enabled THRE means "the FIFO is empty", so one LSR
 * read buys 16 bytes of output, written with one rep outsb: on a VMM every
 * port access is a VM exit, and this halves the console's cost.
 */
#include "guest.h"

#define UART_THR 0 /* transmit holding register (write) */
#define UART_IER 1
#define UART_DLL 0 /* divisor latch, with LCR.DLAB */
#define UART_DLM 1
#define UART_FCR 2 /* FIFO control (write) */
#define UART_IIR 2 /* interrupt identification (read) */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LCR_DLAB 0x80
#define LCR_8N1 0x03

static unsigned uart_fifo = 1; /* bytes we may write per THRE */
static bool uart_absent;

void console_init(void)
{
	outb(PORT_COM1 + UART_IER, 0);        /* polled: no UART interrupts */
	outb(PORT_COM1 + UART_LCR, LCR_DLAB);
	outb(PORT_COM1 + UART_DLL, 1);        /* 115200 baud */
	outb(PORT_COM1 + UART_DLM, 0);
	outb(PORT_COM1 + UART_LCR, LCR_8N1);
	outb(PORT_COM1 + UART_FCR, 0x07);     /* FIFO on, both cleared */
	outb(PORT_COM1 + UART_MCR, 0x03);     /* DTR, RTS */
	/* IIR bits 7:6 read 11 when the FIFO is really there (16550A). */
	if ((inb(PORT_COM1 + UART_IIR) & 0xc0) == 0xc0)
		uart_fifo = 16;
	/* Nothing decodes the port: reads float high.  Do not spin on it. */
	if (inb(PORT_COM1 + UART_LSR) == 0xff)
		uart_absent = true;
}

static void uart_wait_thre(void)
{
	/* Bounded by time, not by a count of reads (each read may be an exit,
	 * whose cost varies by orders of magnitude between hosts): a 16-byte
	 * FIFO drains in 1.4 ms at 115200 baud, so 10 ms is plenty, and a
	 * broken UART must not hang the guest silently forever. */
	uint64_t end = rdtsc() + 10000 * tsc_per_us();

	while (!(inb(PORT_COM1 + UART_LSR) & LSR_THRE)) {
		if ((int64_t)(rdtsc() - end) >= 0)
			return;
		cpu_relax();
	}
}

void console_write(const char *s, size_t n)
{
	if (uart_absent)
		return;
	while (n) {
		size_t chunk = n < uart_fifo ? n : uart_fifo;

		const char *p = s;

		uart_wait_thre();
		/* The whole burst as one string instruction: a VMM may take it
		 * in one exit (kvmini's serial handles count > 1 in one go).
		 * KVM's emulator still exits once per byte of rep outs (it
		 * batches only rep ins), so under KVM this saves no exit, but
		 * costs none either. */
		__asm__ volatile("rep outsb"
				 : "+S"(p), "+c"(chunk)
				 : "d"((uint16_t)(PORT_COM1 + UART_THR))
				 : "memory");
		chunk = (size_t)(p - s);
		s += chunk;
		n -= chunk;
	}
}

void console_putc(char c)
{
	console_write(&c, 1);
}

/* ---- formatting ------------------------------------------------------------
 * One formatter writes into a sink; printf's sink flushes to the UART in
 * FIFO-sized pieces, snprintf's fills a buffer. */
struct sink {
	char *buf;
	size_t size, len; /* len counts everything, even what did not fit */
	bool console;
	char tmp[64];
	size_t tmp_len;
};

static void sink_put(struct sink *s, char c)
{
	if (s->console) {
		s->tmp[s->tmp_len++] = c;
		if (s->tmp_len == sizeof(s->tmp)) {
			console_write(s->tmp, s->tmp_len);
			s->tmp_len = 0;
		}
	} else if (s->len + 1 < s->size) {
		s->buf[s->len] = c;
	}
	s->len++;
}

static void sink_pad(struct sink *s, char c, int n)
{
	while (n-- > 0)
		sink_put(s, c);
}

static void fmt_num(struct sink *s, uint64_t v, unsigned base, bool neg, bool upper,
		    int width, bool zero, bool left, const char *prefix)
{
	char digits[24];
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0, plen = prefix ? (int)strlen(prefix) : 0;

	do {
		digits[n++] = set[v % base];
		v /= base;
	} while (v);
	int total = n + (neg ? 1 : 0) + plen;

	if (!left && !zero)
		sink_pad(s, ' ', width - total);
	if (neg)
		sink_put(s, '-');
	for (int i = 0; i < plen; i++)
		sink_put(s, prefix[i]);
	if (!left && zero)
		sink_pad(s, '0', width - total);
	while (n)
		sink_put(s, digits[--n]);
	if (left)
		sink_pad(s, ' ', width - total);
}

static void fmt(struct sink *s, const char *f, va_list ap)
{
	for (; *f; f++) {
		if (*f != '%') {
			sink_put(s, *f);
			continue;
		}
		bool left = false, zero = false, alt = false;
		int width = 0, prec = -1, lng = 0;

		for (f++;; f++) {
			if (*f == '-')
				left = true;
			else if (*f == '0')
				zero = true;
			else if (*f == '#')
				alt = true;
			else
				break;
		}
		if (*f == '*') {
			width = va_arg(ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (*f++ - '0');
		if (*f == '.') {
			prec = 0;
			f++;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			}
			while (*f >= '0' && *f <= '9')
				prec = prec * 10 + (*f++ - '0');
		}
		while (*f == 'l' || *f == 'z' || *f == 'h') {
			if (*f != 'h')
				lng++;
			f++;
		}

		uint64_t u;
		int64_t d;

		switch (*f) {
		case 'd':
		case 'i':
			d = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			fmt_num(s, d < 0 ? -(uint64_t)d : (uint64_t)d, 10, d < 0, false, width, zero, left, NULL);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			fmt_num(s, u, *f == 'u' ? 10 : *f == 'o' ? 8 : 16, false, *f == 'X', width, zero, left,
				alt && (*f == 'x' || *f == 'X') ? "0x" : NULL);
			break;
		case 'p':
			u = (uint64_t)(uintptr_t)va_arg(ap, void *);
			fmt_num(s, u, 16, false, false, width, zero, left, "0x");
			break;
		case 'c':
			if (!left)
				sink_pad(s, ' ', width - 1);
			sink_put(s, (char)va_arg(ap, int));
			if (left)
				sink_pad(s, ' ', width - 1);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (!str)
				str = "(null)";
			int n = (int)(prec >= 0 ? strnlen(str, prec) : strlen(str));

			if (!left)
				sink_pad(s, ' ', width - n);
			for (int i = 0; i < n; i++)
				sink_put(s, str[i]);
			if (left)
				sink_pad(s, ' ', width - n);
			break;
		}
		case '%':
			sink_put(s, '%');
			break;
		case '\0':
			return;
		default: /* unknown conversion: show it rather than guess */
			sink_put(s, '%');
			sink_put(s, *f);
			break;
		}
	}
}

int vsnprintf(char *buf, size_t size, const char *f, va_list ap)
{
	struct sink s = { .buf = buf, .size = size };

	fmt(&s, f, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *f, va_list ap)
{
	struct sink s = { .console = true };

	fmt(&s, f, ap);
	if (s.tmp_len)
		console_write(s.tmp, s.tmp_len);
	return (int)s.len;
}

int printf(const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vprintf(f, ap);
	va_end(ap);
	return n;
}

void hexdump(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i += 16) {
		printf("  %08lx:", (uint64_t)(uintptr_t)(b + i));
		for (size_t j = i; j < i + 16 && j < n; j++)
			printf(" %02x", b[j]);
		printf("\n");
	}
}
