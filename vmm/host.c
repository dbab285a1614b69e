/* SPDX-License-Identifier: MIT */
/* host.c - facts about the host, read without changing it (see host.h). */
#include "host.h"

#include "trace.h"

#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

/* First line of a small sysfs file, without the newline; "" on failure. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

/* Entries of a directory, "." and ".." left out; first one into first. */
static unsigned count_dir(const char *path, char *first, size_t len)
{
	DIR *d = opendir(path);
	struct dirent *e;
	unsigned n = 0;

	if (first)
		first[0] = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (first && (!first[0] || strcmp(e->d_name, first) < 0))
			snprintf(first, len, "%s", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static int open_errno(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void cpu_facts(struct host_facts *h)
{
	unsigned a, b, c, d;

	__cpuid(1, a, b, c, d);
	h->cpu_guest = c & (1u << 31);
	if (c & (1u << 5))
		h->virt_ext = "vmx";
	if (__get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 2)))
		h->virt_ext = "svm";
	/* The hypervisor's signature, by convention at leaf 0x40000000
	 * (EBX, ECX, EDX), only meaningful with the hypervisor bit. */
	if (h->cpu_guest) {
		__cpuid(0x40000000, a, b, c, d);
		memcpy(h->hv_vendor, &b, 4);
		memcpy(h->hv_vendor + 4, &c, 4);
		memcpy(h->hv_vendor + 8, &d, 4);
		h->hv_vendor[12] = 0;
		for (int i = 0; i < 12; i++)
			if (h->hv_vendor[i] && (h->hv_vendor[i] < 0x20 || h->hv_vendor[i] > 0x7e))
				h->hv_vendor[i] = '?';
	}
}

static void kvm_facts(struct host_facts *h)
{
	static const char *const mods[] = {"kvm_intel", "kvm_amd", "kvm_pvm"};
	char path[128];
	int fd;

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", mods[i]);
		if (access(path, F_OK))
			continue;
		snprintf(h->kvm_module, sizeof(h->kvm_module), "%s", mods[i]);
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/nested", mods[i]);
		read_line(path, h->nested, sizeof(h->nested));
		break;
	}
	h->kvm_api = -1;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		h->kvm_errno = errno;
		return;
	}
	h->kvm_api = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
}

static void iommu_facts(struct host_facts *h)
{
	char path[300], first[256];
	DIR *d;
	struct dirent *e;

	h->iommu_units = count_dir("/sys/class/iommu", h->iommu_unit, sizeof(h->iommu_unit));
	h->iommu_groups = count_dir("/sys/kernel/iommu_groups", first, sizeof(first));
	if (h->iommu_groups) {
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/type", first);
		read_line(path, h->iommu_type, sizeof(h->iommu_type));
	}
	d = opendir("/sys/bus/pci/drivers/vfio-pci");
	while (d && (e = readdir(d)))
		if (strchr(e->d_name, ':')) /* the BDF links; bind, new_id... have none */
			h->vfio_devices++;
	if (d)
		closedir(d);
}

void host_facts_read(struct host_facts *h)
{
	struct utsname u;

	memset(h, 0, sizeof(*h));
	if (!uname(&u))
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	cpu_facts(h);
	kvm_facts(h);
	iommu_facts(h);
	h->vfio_errno = open_errno("/dev/vfio/vfio");
	h->iommufd_errno = open_errno("/dev/iommu");
	h->tun_errno = open_errno("/dev/net/tun");
}

const char *host_iommu_kind(const char *unit)
{
	if (!strncmp(unit, "dmar", 4))
		return "Intel VT-d";
	if (!strncmp(unit, "ivhd", 4))
		return "AMD-Vi";
	if (strstr(unit, "virtio"))
		return "virtio-iommu";
	return unit;
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* A device node's state, as the report spells it. */
static const char *node_state(int err)
{
	if (!err)
		return "ok";
	if (err == EACCES || err == EPERM)
		return "not permitted";
	return "missing";
}

void host_facts_json(FILE *f, const struct host_facts *h)
{
	fprintf(f, "{\"kernel\":");
	json_string(f, h->kernel);
	fprintf(f, ",\"guest\":%s,\"hypervisor\":", h->cpu_guest ? "true" : "false");
	if (h->cpu_guest)
		json_string(f, h->hv_vendor);
	else
		fputs("null", f);
	fprintf(f, ",\"virt_ext\":");
	if (h->virt_ext)
		json_string(f, h->virt_ext);
	else
		fputs("null", f);
	fprintf(f, ",\"kvm\":\"%s\",\"kvm_api\":%d,\"kvm_module\":", node_state(h->kvm_errno),
		h->kvm_api);
	json_string(f, h->kvm_module);
	fprintf(f, ",\"nested\":");
	if (h->nested[0])
		fprintf(f, "%s", strchr("Yy1", h->nested[0]) ? "true" : "false");
	else
		fputs("null", f);
	fprintf(f, ",\"iommu\":{\"active\":%s,\"kind\":", h->iommu_units ? "true" : "false");
	if (h->iommu_units)
		json_string(f, host_iommu_kind(h->iommu_unit));
	else
		fputs("null", f);
	fprintf(f, ",\"mode\":");
	if (h->iommu_type[0])
		json_string(f, h->iommu_type);
	else
		fputs("null", f);
	fprintf(f, ",\"groups\":%u},\"vfio_pci_devices\":%u", h->iommu_groups, h->vfio_devices);
	fprintf(
	    f,
	    ",\"nodes\":{\"/dev/vfio/vfio\":\"%s\",\"/dev/iommu\":\"%s\",\"/dev/net/tun\":\"%s\"}}",
	    node_state(h->vfio_errno), node_state(h->iommufd_errno), node_state(h->tun_errno));
}

FILE *report_file_open(const char *path)
{
	FILE *f;

	if (!strcmp(path, "-")) {
		int fd = dup(STDOUT_FILENO);

		/* The report keeps the real stdout; the rest goes to stderr. */
		fflush(stdout);
		if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0 || !(f = fdopen(fd, "w")))
			die_errno(EXIT_HOST, "--report -: cannot set up standard output for it");
		return f;
	}
	if (!*path)
		die(EXIT_USAGE, "--report needs a file name (or - for standard output)");
	f = fopen(path, "w");
	if (!f)
		die(EXIT_USAGE, "--report '%s': cannot create it (%s): give a path in a writable "
				"directory, or - for standard output",
		    path, strerror(errno));
	return f;
}

void report_file_close(FILE *f, const char *path, int status)
{
	/* fflush reports the buffered writes' first error; fclose the close's
	 * (NFS and some file systems report ENOSPC only there). */
	int err;

	errno = 0;
	err = fflush(f) || ferror(f) ? (errno ? errno : EIO) : 0;
	if (fclose(f) && !err)
		err = errno ? errno : EIO;
	if (err)
		die(EXIT_REPORT, "cannot write the report to %s%s%s: %s (without it the status "
				 "would have been %d: %s)",
		    strcmp(path, "-") ? "'" : "", strcmp(path, "-") ? path : "standard output",
		    strcmp(path, "-") ? "'" : "", strerror(err), status, exit_status_text(status));
}

const char *exit_status_text(int status)
{
	switch (status) {
	case EXIT_GUEST_OK: return "the guest reported success";
	case EXIT_GUEST_FAILED: return "the guest reported a failure (a nonzero status)";
	case EXIT_USAGE: return "bad command line";
	case EXIT_NO_KVM: return "/dev/kvm missing or not permitted";
	case EXIT_KVM_CAP: return "KVM too old or lacks a capability";
	case EXIT_KERNEL: return "--kernel/--initrd unreadable or malformed";
	case EXIT_VFIO: return "the --vfio device cannot be attached";
	case EXIT_NET: return "the --net backend cannot be opened";
	case EXIT_GUEST_CRASH:
		return "the guest crashed (triple fault, unhandled exit, hostile guest)";
	case EXIT_HOST: return "a host resource failed (memory, threads, fds)";
	case EXIT_REBOOT: return "the guest asked for a reboot";
	case EXIT_VFIO_REQ: return "the host asked for the --vfio device back";
	case EXIT_SECCOMP: return "a kvmini thread made a forbidden system call (seccomp)";
	case EXIT_REPORT: return "the --report file could not be written";
	case EXIT_GUEST_UNSUPPORTED:
		return "the guest asked for something kvmini does not offer; stopped cleanly";
	case EXIT_SIGINT: return "interrupted (SIGINT)";
	case EXIT_SIGTERM: return "terminated (SIGTERM)";
	default: return "(a status kvmini does not document)";
	}
}
