# linux-pvh.sh - issue 6: the same Debian kernel as an uncompressed ELF
# vmlinux, booted through its PVH entry note (the path the embedded guest
# takes), with the initrd as PVH module 0 and the RSDP in the start info.
# l1: --timeout 900 --file @BUILD@/nested/linux-l2/vmlinux:/l2/vmlinux --file @BUILD@/nested/linux-l2/initrd.cpio:/l2/initrd.cpio
# l1-prep: test/nested/linux-l2.sh
#
# The files are made on the host by test/nested/linux-l2.sh (the "# l1-prep:"
# line, for a runner that honours it; else run it by hand first).

if [ -s /l2/vmlinux ]; then
	case_run linux-pvh checks timeout=400 'match=kvmini: guest powered off' 'match=VM exits' \
		-- kvmini --kernel /l2/vmlinux --initrd /l2/initrd.cpio --net none --stats \
		--cmdline "console=ttyS0 panic=-1 loglevel=4 pci=noearly l2.ids=1b36:0008:060000,1af4:1041:020000"
	# --initrd with a PVH ELF that is not Linux (the embedded guest's
	# kind): refused as usage.
	case_run pvh-initrd-not-linux rc=2 lines=1 'match=^kvmini: --initrd needs a Linux kernel' \
		-- kvmini --kernel /bin/kvmini --initrd /l2/initrd.cpio
else
	note "no /l2/vmlinux (test/nested/linux-l2.sh could not extract it): PVH Linux skipped"
fi
