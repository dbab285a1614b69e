/* SPDX-License-Identifier: MIT */
/*
 * check.c - `kvmini check`: can this host run kvmini, and if not, why not?
 *
 * Starts no guest and changes nothing: it opens device nodes and closes
 * them, reads sysfs and CPUID.  One line per item, "ok", "missing", "not
 * permitted", or "info" for facts that are neither good nor bad, and under
 * each item that is not ok a line "fix: ..." with a command a root shell
 * takes as printed (prose only after '#').  Items a run with the same
 * options does not need are marked "(not needed for this run)".  The tap
 * is opened and the --vfio device attached through the run's own code
 * (vnet_tap_open(), vfio_probe() in a child), so that their items say what
 * the run would.
 *
 * The verdict is not a judgement of those items but the run's own: a
 * child goes on through main()'s setup with the same options (check.h)
 * and exits where the guest would start; its exit status and last line
 * are check's status and reason.  A run and a check with the same options
 * cannot disagree about what stops the run first.
 */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"
#include "phase.h"
#include "trace.h"
#include "vm.h"
#include "../devices/vfio.h"
#include "../devices/virtio_net.h"

enum item_state { ITEM_OK, ITEM_MISSING, ITEM_DENIED, ITEM_INFO };
static const char *const state_names[] = {"ok", "missing", "not permitted", "info"};

#define CHECK_MAX_ITEMS 256

static struct {
	unsigned n;
	struct {
		enum item_state state;
		bool needed;
		char *text, *fix;
	} it[CHECK_MAX_ITEMS];
	int status;	  /* exit code of the first needed item not ok */
	char reason[512]; /* and what it was */
} chk;

/* One item: state, whether this run needs it, the exit code when it is
 * needed and not ok, the remedy (NULL when ok or nothing to do). */
__attribute__((format(printf, 5, 6))) static void item(enum item_state st, bool needed, int code,
						       const char *fix, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	bool bad = st == ITEM_MISSING || st == ITEM_DENIED;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	printf("%-14s %s%s\n", state_names[st], text,
	       bad && !needed ? " (not needed for this run)" : "");
	if (bad && fix)
		printf("%-14s fix: %s\n", "", fix);
	if (bad && needed && !chk.status) {
		chk.status = code;
		snprintf(chk.reason, sizeof(chk.reason), "%s: %.480s", state_names[st], text);
	}
	if (chk.n < CHECK_MAX_ITEMS) {
		chk.it[chk.n].state = st;
		chk.it[chk.n].needed = needed;
		chk.it[chk.n].text = strdup(text);
		chk.it[chk.n].fix = bad && fix ? strdup(fix) : NULL;
		chk.n++;
	}
}

static enum item_state errno_state(int err)
{
	if (!err)
		return ITEM_OK;
	return err == EACCES || err == EPERM ? ITEM_DENIED : ITEM_MISSING;
}

/* The driver bound to a PCI device: its name, or "" when none. */
static void pci_driver(const char *bdf, char *out, size_t len)
{
	char link[PATH_MAX], target[256];
	ssize_t n;
	const char *base;

	out[0] = 0;
	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = 0;
	base = strrchr(target, '/');
	snprintf(out, len, "%.63s", base ? base + 1 : target);
}

static int pci_group(const char *bdf)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *base;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = 0;
	base = strrchr(target, '/');
	return atoi(base ? base + 1 : target);
}

/* ---- KVM ------------------------------------------------------------------ */

/* The vendor module for this CPU's virtualisation extension. */
static const char *kvm_module_for(const struct host_facts *h)
{
	return h->virt_ext && !strcmp(h->virt_ext, "svm") ? "kvm_amd" : "kvm_intel";
}

static void check_kvm(const struct host_facts *h)
{
	int fd, v;

	if (h->kvm_errno == ENOENT) {
		char fix[160] = "";

		if (h->virt_ext)
			snprintf(fix, sizeof(fix),
				 "modprobe %s  # with %s on in firmware (a machine without KVM can "
				 "still nest one: make run)",
				 kvm_module_for(h), strcmp(h->virt_ext, "svm") ? "VT-x" : "AMD-V");
		item(ITEM_MISSING, true, EXIT_NO_KVM, fix[0] ? fix : NULL, "/dev/kvm: %s%s",
		     strerror(h->kvm_errno),
		     h->virt_ext ? "" : " (and no VT-x/AMD-V in CPUID: turn it on in firmware)");
		return;
	}
	if (h->kvm_errno) {
		char fix[160] = "";
		struct passwd *pw = getpwuid(geteuid());

		if (geteuid() && pw)
			snprintf(fix, sizeof(fix), "usermod -aG kvm %.64s  # then log in again",
				 pw->pw_name);
		item(errno_state(h->kvm_errno), true, EXIT_NO_KVM, fix[0] ? fix : NULL,
		     "/dev/kvm: %s", strerror(h->kvm_errno));
		return;
	}
	item(ITEM_OK, true, 0, NULL, "/dev/kvm: opened read-write");
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) /* it opened a moment ago in host_facts_read() */
		return item(ITEM_MISSING, true, EXIT_NO_KVM, NULL, "/dev/kvm: %s", strerror(errno));
	if (h->kvm_api != KVM_API_VERSION)
		item(ITEM_MISSING, true, EXIT_KVM_CAP, NULL,
		     "KVM API version %d (kvmini needs %d: use a newer host kernel)", h->kvm_api,
		     KVM_API_VERSION);
	else
		item(ITEM_OK, true, 0, NULL, "KVM API version %d", h->kvm_api);
	for (size_t i = 0; i < vm_ncaps; i++) {
		bool ok = ioctl(fd, KVM_CHECK_EXTENSION, vm_caps[i].cap) > 0;

		item(ok ? ITEM_OK : ITEM_MISSING, true, EXIT_KVM_CAP, NULL, "%s (%s)%s",
		     vm_caps[i].name, vm_caps[i].why, ok ? "" : ": use a newer host kernel");
	}
	v = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	item(v <= 0 || v >= VM_MAX_SLOTS ? ITEM_OK : ITEM_MISSING, true, EXIT_KVM_CAP, NULL,
	     "KVM memory slots: %d (kvmini needs %d)", v, VM_MAX_SLOTS);
	close(fd);
}

/* Is this machine a guest, and can it give its own guests KVM? */
static void check_nesting(const struct host_facts *h)
{
	char fix[160];

	if (h->cpu_guest)
		item(ITEM_INFO, false, 0, NULL,
		     "this machine is a guest: CPUID hypervisor bit set, hypervisor \"%s\"",
		     h->hv_vendor);
	else
		item(ITEM_INFO, false, 0, NULL,
		     "this machine is not a guest (no CPUID hypervisor bit)");
	item(ITEM_INFO, false, 0, NULL, "CPU virtualisation extension: %s; KVM module: %s",
	     h->virt_ext ? h->virt_ext : "none (neither vmx nor svm in CPUID)",
	     h->kvm_module[0] ? h->kvm_module : "none loaded");
	if (!h->kvm_module[0] || !h->nested[0]) {
		snprintf(fix, sizeof(fix), "modprobe %s nested=1", kvm_module_for(h));
		item(ITEM_MISSING, false, 0, h->virt_ext && !h->kvm_module[0] ? fix : NULL,
		     "nesting for this machine's guests: %s",
		     h->kvm_module[0] ? "its KVM module has no nested parameter" : "no KVM module");
		return;
	}
	snprintf(fix, sizeof(fix), "modprobe -r %s && modprobe %s nested=1  # with no VM running",
		 h->kvm_module, h->kvm_module);
	item(strchr("Yy1", h->nested[0]) ? ITEM_OK : ITEM_MISSING, false, 0, fix,
	     "nesting for this machine's guests: %s nested=%s", h->kvm_module, h->nested);
}

/* ---- IOMMU and VFIO ------------------------------------------------------- */

/* The IOMMU on: a kernel parameter, put where a stock Debian (GRUB) takes
 * it.  Set by check_run() from the host facts. */
static char iommu_fix[300];

static void iommu_fix_set(const struct host_facts *h)
{
	bool amd = h->virt_ext && !strcmp(h->virt_ext, "svm");

	snprintf(iommu_fix, sizeof(iommu_fix),
		 "sed -i 's/^GRUB_CMDLINE_LINUX=\"/&%s /' /etc/default/grub && update-grub  # "
		 "then reboot, with %s on in firmware (QEMU: -device intel-iommu)",
		 amd ? "amd_iommu=on" : "intel_iommu=on", amd ? "AMD-Vi" : "VT-d");
}

/* One line per group, in numerical order: its members and their drivers. */
static void check_groups(unsigned ngroups)
{
	DIR *m;
	struct dirent *f;
	char path[PATH_MAX], members[400], drv[64];

	/* Group numbers are small and dense; stop once all have been seen. */
	for (unsigned g = 0, seen = 0; seen < ngroups && g < 65536; g++) {
		size_t used = 0;

		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%u/devices", g);
		m = opendir(path);
		if (!m)
			continue;
		seen++;
		members[0] = 0;
		while ((f = readdir(m))) {
			if (f->d_name[0] == '.' || used >= sizeof(members) - 1)
				continue;
			pci_driver(f->d_name, drv, sizeof(drv));
			used += (size_t)snprintf(members + used, sizeof(members) - used,
						 "%s%s (%s)", used ? ", " : "", f->d_name,
						 drv[0] ? drv : "no driver");
		}
		closedir(m);
		item(ITEM_INFO, false, 0, NULL, "IOMMU group %u: %s", g, members);
	}
}

/* A group is viable when every member is bound to vfio-pci or pci-stub,
 * or to no driver at all (the kernel's rule for VFIO_GROUP_FLAGS_VIABLE,
 * bridges aside).  blockers gets the driver_override commands. */
static bool group_viable(int group, char *blockers, size_t len)
{
	char path[PATH_MAX], drv[64];
	DIR *d;
	struct dirent *e;
	size_t used = 0;
	bool ok = true;

	blockers[0] = 0;
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", group);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		pci_driver(e->d_name, drv, sizeof(drv));
		if (!drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub"))
			continue;
		ok = false;
		if (used < len)
			used += (size_t)snprintf(
			    blockers + used, len - used,
			    "%secho vfio-pci > /sys/bus/pci/devices/%s/driver_override; echo %s > "
			    "/sys/bus/pci/devices/%s/driver/unbind; echo %s > "
			    "/sys/bus/pci/drivers_probe",
			    used ? "; " : "", e->d_name, e->d_name, e->d_name, e->d_name);
	}
	if (d)
		closedir(d);
	return ok;
}

/* Group, viability, group node and cdev of one device bound to vfio-pci. */
static void check_vfio_device(const char *bdf, bool needed)
{
	char path[PATH_MAX], node[64], cdev[64], blockers[1024];
	int group = pci_group(bdf);

	if (group < 0)
		return item(ITEM_MISSING, needed, EXIT_VFIO, iommu_fix,
			    "vfio-pci %s: no IOMMU group", bdf);
	if (!group_viable(group, blockers, sizeof(blockers)))
		item(ITEM_MISSING, needed, EXIT_VFIO, blockers,
		     "vfio-pci %s: group %d not viable: a member is bound to a host driver", bdf,
		     group);
	else
		item(ITEM_OK, needed, 0, NULL, "vfio-pci %s: group %d viable", bdf, group);
	snprintf(node, sizeof(node), "/dev/vfio/%d", group);
	if (access(node, F_OK))
		item(ITEM_MISSING, needed, EXIT_VFIO,
		     "modprobe vfio-pci  # the group node appears when a member binds to it",
		     "vfio-pci %s: %s: %s", bdf, node, strerror(errno));
	else if (access(node, R_OK | W_OK)) {
		char fix[80];

		snprintf(fix, sizeof(fix), "chown %u %s", (unsigned)geteuid(), node);
		item(ITEM_DENIED, needed, EXIT_VFIO, fix, "vfio-pci %s: %s: %s", bdf, node,
		     strerror(errno));
	}
	else
		item(ITEM_OK, needed, 0, NULL, "vfio-pci %s: %s usable", bdf, node);
	/* The cdev (VFIO_DEVICE_CDEV) is only for an IOMMUFD backend: never
	 * needed by the container path, so never a failure here. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	DIR *d = opendir(path);
	struct dirent *e;

	cdev[0] = 0;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			snprintf(cdev, sizeof(cdev), "%.32s", e->d_name);
	if (d)
		closedir(d);
	/* sysfs has vfio-dev/vfioN from 6.1 on; the /dev node only with
	 * VFIO_DEVICE_CDEV. */
	snprintf(node, sizeof(node), "/dev/vfio/devices/%.32s", cdev);
	if (cdev[0] && !access(node, F_OK))
		item(ITEM_INFO, false, 0, NULL, "vfio-pci %s: cdev %s", bdf, node);
	else
		item(ITEM_INFO, false, 0, NULL,
		     "vfio-pci %s: no cdev in /dev/vfio/devices (a kernel without "
		     "VFIO_DEVICE_CDEV; the container path needs none)",
		     bdf);
}

static void check_unbound(const char *want);

/* The IOMMU, VFIO and every device bound to vfio-pci; the n devices of
 * --vfio (want) are needed, and each one not bound gets its fix. */
static void check_vfio(const struct host_facts *h, const char (*want)[13], unsigned n,
		       const char *backend)
{
	char fix[600];
	bool need = n > 0, seen[PCI_MAX_VFIO] = {false};
	/* Which node the run will need: the backend asked for; auto takes
	 * IOMMUFD only where /dev/iommu is there (and the device has a cdev),
	 * so the container is needed when /dev/iommu is not. */
	bool iommufd = backend && !strcmp(backend, "iommufd");
	bool container = backend && !strcmp(backend, "container");
	bool need_iommufd = need && iommufd;
	bool need_container = need && (container || (!iommufd && h->iommufd_errno));
	DIR *d;
	struct dirent *e;

	if (h->iommu_units)
		item(ITEM_OK, need, 0, NULL, "IOMMU: %s active (%s), %u groups, default domain %s",
		     host_iommu_kind(h->iommu_unit), h->iommu_unit, h->iommu_groups,
		     h->iommu_type[0] ? h->iommu_type : "unknown");
	else
		item(ITEM_MISSING, need, EXIT_VFIO, iommu_fix,
		     "IOMMU: none active (/sys/class/iommu is empty)");
	check_groups(h->iommu_groups);
	snprintf(fix, sizeof(fix), "chown %u /dev/vfio/vfio", (unsigned)geteuid());
	item(errno_state(h->vfio_errno), need_container, EXIT_VFIO,
	     h->vfio_errno == ENOENT ? "modprobe vfio-pci" : fix,
	     "/dev/vfio/vfio (VFIO container): %s",
	     h->vfio_errno ? strerror(h->vfio_errno) : "usable");
	snprintf(fix, sizeof(fix), "chown %u /dev/iommu", (unsigned)geteuid());
	item(errno_state(h->iommufd_errno), need_iommufd, EXIT_VFIO,
	     h->iommufd_errno == ENOENT ? "modprobe iommufd  # a kernel with CONFIG_IOMMUFD" : fix,
	     "/dev/iommu (IOMMUFD): %s", h->iommufd_errno ? strerror(h->iommufd_errno) : "usable");

	d = opendir("/sys/bus/pci/drivers/vfio-pci");
	while (d && (e = readdir(d))) {
		if (!strchr(e->d_name, ':'))
			continue;
		bool wanted = false;

		for (unsigned i = 0; i < n; i++)
			if (!strcmp(want[i], e->d_name))
				wanted = seen[i] = true;
		check_vfio_device(e->d_name, wanted);
	}
	if (d)
		closedir(d);
	if (!h->vfio_devices)
		item(ITEM_INFO, false, 0, NULL, "no PCI device is bound to vfio-pci");
	for (unsigned i = 0; i < n; i++)
		if (!seen[i])
			check_unbound(want[i]);
}

/* A device asked for that is not bound to vfio-pci: say how to bind it. */
static void check_unbound(const char *want)
{
	char fix[600], drv[64], path[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", want);
	if (access(path, F_OK)) {
		item(ITEM_MISSING, true, EXIT_VFIO, "lspci -D  # the host's devices, by the address --vfio takes",
		     "--vfio %s: no such PCI device", want);
		return;
	}
	pci_driver(want, drv, sizeof(drv));
	snprintf(fix, sizeof(fix),
		 "modprobe vfio-pci; echo vfio-pci > %s/driver_override; %s%secho %s > "
		 "/sys/bus/pci/drivers_probe",
		 path, drv[0] ? "echo " : "", drv[0] ? want : "", want);
	if (drv[0]) /* the unbind goes between override and probe */
		snprintf(fix, sizeof(fix),
			 "modprobe vfio-pci; echo vfio-pci > %s/driver_override; echo %s > "
			 "%s/driver/unbind; echo %s > /sys/bus/pci/drivers_probe",
			 path, want, path, want);
	item(ITEM_MISSING, true, EXIT_VFIO, fix, "--vfio %s: bound to %s, not vfio-pci", want,
	     drv[0] ? drv : "no driver");
}

/* ---- children: the run's own code, ending as the run would --------------- */

/* Fork a child whose stdout and stderr go to a pipe: 0 in the child, its
 * pid in the parent, with the pipe's read end in *rd. */
static pid_t child_start(int *rd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		die_errno(EXIT_HOST, "pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_errno(EXIT_HOST, "fork");
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[1]);
		return 0;
	}
	close(p[1]);
	*rd = p[0];
	return pid;
}

/* The child's exit status, and the last "kvmini: " line it printed (its
 * die() message) in line without the prefix; its other lines (traces) go
 * on to stderr as they come. */
static int child_wait(pid_t pid, int rd, char *line, size_t len)
{
	FILE *f = fdopen(rd, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int st;

	line[0] = 0;
	while (f && (n = getline(&buf, &cap, f)) > 0) {
		if (!strncmp(buf, "kvmini: ", 8)) {
			buf[strcspn(buf, "\n")] = 0;
			snprintf(line, len, "%s", buf + 8);
		} else {
			fputs(buf, stderr);
		}
	}
	free(buf);
	if (f)
		fclose(f);
	else
		close(rd);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die_errno(EXIT_HOST, "waitpid");
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	snprintf(line, len, "ended by signal %d", WTERMSIG(st));
	return EXIT_HOST;
}

/* Attach and release through the realize code's first stages. */
static void check_vfio_attach(const char *bdf, const char *backend)
{
	char line[768], summary[256];
	int rd, code;
	pid_t pid = child_start(&rd);

	if (pid == 0) {
		vfio_probe(bdf, backend, summary, sizeof(summary));
		printf("kvmini: probe: %s\n", summary);
		exit(0);
	}
	code = child_wait(pid, rd, line, sizeof(line));
	if (code == 0)
		item(ITEM_OK, true, 0, NULL, "--vfio %s: attached and released (%s)", bdf,
		     !strncmp(line, "probe: ", 7) ? line + 7 : line);
	else
		item(ITEM_MISSING, true, code, NULL, "--vfio attach: %s",
		     line[0] ? line : "the probe failed with no message");
}

/* ---- network -------------------------------------------------------------- */

/* The tap through the run's own vnet_tap_open(): the item says what the
 * run would say, with the same fix. */
/* One --net; /dev/net/tun is said once, with the first tap (or the first
 * --net when none is a tap). */
static void check_net(const struct host_facts *h, const char *spec, unsigned index,
		      bool tun_item)
{
	struct vnet_spec s;
	struct vnet_tap_err e;
	char err[300];
	unsigned offloads;
	int fd, code;
	bool need;

	if (vnet_spec_parse(spec, &s, err, sizeof(err))) /* main() has refused it already */
		die(EXIT_USAGE, "%s", err);
	need = s.backend == VNET_BACKEND_TAP;
	if (tun_item)
		item(errno_state(h->tun_errno), need, EXIT_NET,
		     h->tun_errno == ENOENT ? "modprobe tun" : "chmod 0666 /dev/net/tun",
		     "/dev/net/tun: %s", h->tun_errno ? strerror(h->tun_errno) : "usable");
	if (!need)
		return;
	code = vnet_tap_open(s.ifname, index, &fd, &offloads, &e);
	if (code) {
		item(e.denied ? ITEM_DENIED : ITEM_MISSING, true, code,
		     e.fix[0] ? e.fix : NULL, "--net tap=%s: %s", s.ifname, e.what);
		return;
	}
	close(fd);
	item(ITEM_OK, true, 0, NULL, "--net tap=%s: a tap, up, opened as a run opens it and released",
	     s.ifname);
}

/* ---- the run ---------------------------------------------------------------- */

static void write_check_report(FILE *f, const char *path, const struct host_facts *h, int status,
			       double ms)
{
	fprintf(f, "{\"kvmini\":\"%s\",\"report\":%d,\"mode\":\"check\",\"status\":%d,\"reason\":",
		KVMINI_VERSION, REPORT_FORMAT, status);
	json_string(f, status ? chk.reason : "everything this run needs is there");
	fprintf(f, ",\"host\":");
	host_facts_json(f, h);
	fprintf(f, ",\"timings_ms\":{\"check\":%.1f},\"devices\":[],\"events\":[],\"items\":[", ms);
	for (unsigned i = 0; i < chk.n; i++) {
		fprintf(f, "%s{\"state\":\"%s\",\"needed\":%s,\"text\":", i ? "," : "",
			state_names[chk.it[i].state], chk.it[i].needed ? "true" : "false");
		json_string(f, chk.it[i].text);
		if (chk.it[i].fix) {
			fprintf(f, ",\"fix\":");
			json_string(f, chk.it[i].fix);
		}
		fputc('}', f);
	}
	fprintf(f, "]}\n");
	report_file_close(f, path, status);
}

int check_run(const struct config *cfg)
{
	struct host_facts h;
	double t0 = phase_now_ms();
	char canon[PCI_MAX_VFIO][13], line[768];
	int rd, code, tun_at = 0; /* the first tap, else the first --net */
	pid_t pid;

	/* main() has refused a bad address, or one given twice, already. */
	for (unsigned i = 0; i < cfg->nvfio; i++)
		vfio_bdf_or_die(cfg->vfios[i], canon[i]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	host_facts_read(&h);
	iommu_fix_set(&h);
	printf("kvmini check: what this host offers kvmini (kernel %s; no guest is started, "
	       "nothing is changed)\n",
	       h.kernel);
	check_kvm(&h);
	check_nesting(&h);
	/* Each device and each --net, as the run would take them
	 * (kvmini check --vfio A --vfio B describes both). */
	check_vfio(&h, (const char(*)[13])canon, cfg->nvfio, cfg->vfio_backend);
	for (int i = (int)cfg->nnet - 1; i >= 0; i--)
		if (!strncmp(cfg->nets[i], "tap=", 4))
			tun_at = i;
	for (unsigned i = 0; i < cfg->nnet; i++)
		check_net(&h, cfg->nets[i], i, (int)i == tun_at);
	for (unsigned i = 0; i < cfg->nvfio; i++)
		check_vfio_attach(canon[i], cfg->vfio_backend);

	/* The verdict: the run's own setup with these options, in a child
	 * (main() goes on there), which exits where the guest would start. */
	pid = child_start(&rd);
	if (pid == 0)
		return CHECK_RUN_SETUP;
	code = child_wait(pid, rd, line, sizeof(line));
	if (code) {
		item(ITEM_MISSING, true, code, NULL, "the run: %s",
		     line[0] ? line : "it failed with no message");
		snprintf(chk.reason, sizeof(chk.reason), "%.500s", line);
	} else {
		item(ITEM_OK, true, 0, NULL,
		     "the run's setup with these options (kernel image, VM, devices) done and "
		     "released");
	}
	chk.status = code;
	if (chk.status)
		printf("kvmini check: NOT READY, exit %d: %s\n", chk.status, chk.reason);
	else
		printf("kvmini check: ready: everything this run needs is there\n");
	if (cfg->report)
		write_check_report(cfg->report_file, cfg->report, &h, chk.status, phase_now_ms() - t0);
	return chk.status;
}
