# vfio-iommufd.sh - issue 9: the IOMMUFD backend, on an L1 kernel that has
# it (test/nested/kernel-iommufd.sh: IOMMUFD, the VFIO cdev, and the
# legacy container too).  The full edu run through iommufd, the container
# on the same kernel, a second kvmini and SIGTERM, bad input, then the full
# edu run again with auto (which must take iommufd); vfio-msix.sh's cases
# (auto takes iommufd for them) and a Linux L2 reading edu through iommufd.
# l1: --kernel iommufd --vnet-dev --timeout 900 --file @BUILD@/nested/linux-l2/vmlinuz:/l2/vmlinuz --file @BUILD@/nested/linux-l2/initrd.cpio:/l2/initrd.cpio
# l1-prep: test/nested/linux-l2.sh

if [ "$EDU_VFIO" != 1 ] || [ -z "$EDU_CDEV" ] || [ "$L1_IOMMUFD" != 1 ]; then
	note "edu not usable through iommufd (bdf=${EDU_BDF:-none} cdev=${EDU_CDEV:-none} /dev/iommu=$L1_IOMMUFD)"
	check edu-has-a-vfio-cdev-and-dev-iommu false
	return 0
fi
cdev=/dev/vfio/devices/$EDU_CDEV
# A --stats line's last field, from kvmini's output kept in /tmp/NAME.out.
stat_of() { tr -d '\r' <"/tmp/$1.out" | awk -v k="$2" 'index($0, k) { print $NF; exit }'; }

# --- the full edu run through iommufd, every attach step traced ----------
case_run edu-iommufd checks timeout=120 \
	'match=^\[vfio *\] attach: backend iommufd \(asked for with --vfio-backend iommufd\)' \
	"match=^\\[vfio *\\] attach: /dev/iommu and $cdev opened" \
	'match=^\[vfio *\] attach: VFIO_DEVICE_BIND_IOMMUFD: device id [0-9]+' \
	'match=^\[vfio *\] attach: IOMMU_GET_HW_INFO: type 1 \(Intel VT-d\), 24 bytes' \
	'match=^\[vfio *\] attach: VT-d offers nesting (yes|no), pass-through (yes|no), dirty tracking (yes|no)' \
	'match=^\[vfio *\] attach: IOAS [0-9]+ allocated, device attached' \
	'match=^\[vfio *\] attach: done through the iommufd backend: 4 ioctls' \
	'match=^\[vfio *\] dma: guest RAM .* mapped at IOVA = GPA' \
	'match=^\[vfio *\] teardown: DMA unmapped' \
	'match=^\[vfio *\] teardown: device detached from IOAS' \
	'match=^\[vfio *\] teardown: IOAS [0-9]+ destroyed, /dev/iommu closed' \
	'match=^\[vfio *\] teardown: done' \
	'nomatch=/dev/vfio/vfio' \
	'match=backend iommufd \(asked for' 'match=start to realized us +[1-9]' \
	-- sh -c "kvmini --vfio $EDU_BDF --vfio-backend iommufd --trace vfio --stats --report /tmp/r-iommufd.json >/tmp/edu-iommufd.out 2>&1; rc=\$?; cat /tmp/edu-iommufd.out; exit \$rc"
check report-names-the-backend grep -q '"vfio":{"bdf":"'"$EDU_BDF"'","backend_requested":"iommufd","backend":"iommufd","backend_reason":"asked for with --vfio-backend iommufd","attach_ioctls":4,' /tmp/r-iommufd.json

# --- the container still works on this kernel when asked for ---------------
case_run edu-container checks timeout=120 \
	'match=^\[vfio *\] attach: backend container \(asked for with --vfio-backend container\)' \
	'match=^\[vfio *\] attach: group [0-9]+ opened, viable' \
	'match=^\[vfio *\] attach: done through the container backend: 6 ioctls' \
	-- sh -c "kvmini --vfio $EDU_BDF --vfio-backend container --trace vfio --stats >/tmp/edu-container.out 2>&1; rc=\$?; cat /tmp/edu-container.out; exit \$rc"

# --- a second kvmini on the device, then SIGTERM to the first ------------
hold /tmp/holder.out "edu: holding" kvmini --vfio "$EDU_BDF" --trace vfio --cmdline edu_hold=120
holder=$held
check holder-running-through-iommufd grep -q "backend iommufd" /tmp/holder.out
# What the holder has open: /dev/iommu and the cdev, never the container
# or the group file.
ls -l "/proc/$holder/fd" >/tmp/holder.fds 2>&1
check holder-holds-dev-iommu grep -q ' -> /dev/iommu$' /tmp/holder.fds
check holder-holds-the-cdev grep -q " -> $cdev\$" /tmp/holder.fds
check holder-has-no-container-or-group sh -c "! grep -E ' -> /dev/vfio/(vfio|[0-9]+)\$' /tmp/holder.fds"
case_run in-use-iommufd rc=6 lines=1 \
	'match=^kvmini: vfio .*: device in use by another process \(pid [0-9]+\) \(another kvmini\?\)' \
	-- kvmini --vfio "$EDU_BDF" --vfio-backend iommufd
case_run in-use-container rc=6 lines=1 \
	'match=^kvmini: vfio .*: device in use by another process \(pid [0-9]+\)' \
	-- kvmini --vfio "$EDU_BDF" --vfio-backend container
kill -TERM "$holder"
wait "$holder"
holder_rc=$?
check sigterm-exit-143 [ "$holder_rc" = 143 ]
check sigterm-iommufd-teardown grep -q "teardown: IOAS [0-9]* destroyed, /dev/iommu closed" /tmp/holder.out

# --- no cdev node: iommufd refused, with the remedy ----------------------
mv "$cdev" /tmp/cdev.away
case_run no-cdev-node rc=6 lines=1 \
	"match=^kvmini: vfio $EDU_BDF: --vfio-backend iommufd: .*$cdev is missing; mount devtmpfs on /dev, or create it: mknod $cdev c [0-9]+ [0-9]+\$" \
	-- kvmini --vfio "$EDU_BDF" --vfio-backend iommufd
mv /tmp/cdev.away "$cdev"

# --- a map the kernel refuses: not root, locked-memory limit 1 MiB -------
# iommufd pins guest RAM and charges it to RLIMIT_MEMLOCK unless the
# caller has CAP_IPC_LOCK (root has): as nobody, 64 MiB do not fit.
grep -q '^nobody:' /etc/passwd 2>/dev/null ||
	echo 'nobody:x:65534:65534:nobody:/tmp:/bin/sh' >>/etc/passwd
grep -q '^nobody:' /etc/group 2>/dev/null || echo 'nobody:x:65534:' >>/etc/group
chmod 666 /dev/kvm /dev/iommu "$cdev"
case_run ioas-map-refused rc=6 lines=1 \
	"match=^kvmini: vfio $EDU_BDF: IOMMU_IOAS_MAP of 64 MiB guest RAM: Out of memory; raise the locked-memory limit" \
	-- su -s /bin/sh nobody -c "ulimit -l 1024; exec /bin/kvmini --vfio $EDU_BDF --vfio-backend iommufd"
chmod 600 /dev/iommu "$cdev"

# --- after all of that, the device attaches again; the full edu run with
# no --vfio-backend, where auto must take iommufd and say why -------------
case_run after-errors-auto checks timeout=120 \
	'match=^\[vfio *\] attach: backend iommufd \(auto: /dev/iommu and the device.s cdev are there\)' \
	'match=^\[vfio *\] teardown: IOAS [0-9]+ destroyed, /dev/iommu closed' \
	-- sh -c "kvmini --vfio $EDU_BDF --trace vfio --stats >/tmp/edu-auto.out 2>&1; rc=\$?; cat /tmp/edu-auto.out; exit \$rc"

# One sample of the figures (make bench, bench/vfio-backends.sh, takes
# medians): the warm runs of each backend.
for what in "start to realized us" "attach us" "dma map us" "attach ioctls"; do
	note "$what: iommufd $(stat_of edu-auto "$what"), container $(stat_of edu-container "$what")"
done

# --- MSI-X with QEMU's virtio-net assigned: vfio-msix.sh's cases, here
# through iommufd (auto), which its traced case must show ----------------
MSIX_EXPECT='match=^\[vfio *\] attach: backend iommufd \(auto:'
. /lib/kvmini/scenarios/vfio-msix.sh

# --- Linux as L2, edu assigned through iommufd: Linux reads its ID -------
if [ -r /l2/vmlinuz ]; then
	case_run linux-edu-iommufd checks timeout=400 'match=kvmini: guest powered off' \
		'match=check [0-9]+ passed: edu BAR0 ID register reads 0x010000ed' \
		-- kvmini --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --net none \
		--vfio "$EDU_BDF" --vfio-backend iommufd \
		--cmdline "console=ttyS0 panic=-1 loglevel=4 pci=noearly l2.ids=1b36:0008:060000,1af4:1041:020000,1234:11e8:00ff00 l2.edu=1"
else
	note "no /l2/vmlinuz: test/nested/linux-l2.sh did not run"
	check linux-l2-files-present false
fi

# --- issue 21: two edus through one IOAS ----------------------------------
# The second edu's group also holds L1's PCI serial port (l1.sh): let it go
# first.  Both devices bind to one /dev/iommu and attach to one IOAS, and
# guest RAM is mapped into it once.
set -- $EDU_ALL
EDU2=${2:-none}
ser=/sys/bus/pci/devices/${EDU2%.*}.2
[ -e "$ser/driver" ] && echo "${EDU2%.*}.2" >"$ser/driver/unbind"
case_run two-edu-one-ioas checks timeout=300 \
	'match=check [0-9]+ passed: edu 00:06\.0: DMA round trip intact' \
	'match=^\[vfio *\] attach: /dev/iommu already open \(IOAS [0-9]+\): .* joins it' \
	'match=^\[vfio *\] attach: IOAS [0-9]+ shared with the devices before it, device attached' \
	'match=^\[vfio *\] dma: guest RAM .* already mapped in the shared IOAS' \
	'match=^  vfio: 2 devices in one IOAS, guest RAM mapped 1 time$' \
	'match=^\[vfio *\] teardown: IOAS [0-9]+ kept: 1 other device still attached' \
	'match=^\[vfio *\] teardown: IOAS [0-9]+ destroyed, /dev/iommu closed' \
	-- kvmini --vfio "$EDU_BDF" --vfio "$EDU2" --vfio-backend iommufd --trace vfio --stats
