# devices.sh - PCI config access cost by mechanism, and the assigned
# device's BAR0 through the fast path (a KVM memory slot over the VFIO
# mmap) against --vfio-trap-bars (every access exits and becomes a pread).
# Counts are exact; times come from one L1 run side by side (TCG: compare
# them only with each other).
N=${EDU_BENCH_N:-10000}

stat_line() { sed -n "s/^ *$2 *\([0-9][0-9]*\)\$/\1/p" "$1" | head -n1; }

# --- PCI: the guest's whole PCI work, both mechanisms -------------------
case_run pci-bench checks -- kvmini --net none
kvmini --net none --stats >/tmp/pb.run 2>&1
a=$(stat_line /tmp/pb.run 'pci: 0xcf8 address register accesses')
d=$(stat_line /tmp/pb.run 'pci: config accesses via mechanism #1 (0xcfc)')
e=$(stat_line /tmp/pb.run 'pci: config accesses via ECAM')
x1=$(stat_line /tmp/pb.run 'pci-conf1')
xe=$(stat_line /tmp/pb.run 'pci-ecam')
note "pci: mechanism #1 $d accesses + $a address writes = $x1 exits; ECAM $e accesses = $xe exits"
if [ -n "$d" ] && [ "$d" -gt 0 ] && [ -n "$e" ] && [ "$e" -gt 0 ]; then
	bench pci_cf8_exits_per_100_accesses $((x1 * 100 / d)) exits
	bench pci_ecam_exits_per_100_accesses $((xe * 100 / e)) exits
fi
# The same bus scan timed by the guest with each mechanism, one run.
t1=$(sed -n 's/^pci: mechanism #1 scan: .*, \([0-9][0-9]*\) us$/\1/p' /tmp/pb.run)
te=$(sed -n 's/^pci: ECAM scan: .*, \([0-9][0-9]*\) us$/\1/p' /tmp/pb.run)
if [ -n "$t1" ] && [ -n "$te" ] && [ "$te" -gt 0 ]; then
	bench pci_scan_cf8_us "$t1" us
	bench pci_scan_ecam_us "$te" us
	bench pci_scan_time_ratio_cf8_over_ecam_x100 $((t1 * 100 / te)) x100
fi

# --- vfio: BAR0 reads, fast path against trapped ------------------------
if [ "$EDU_VFIO" != 1 ]; then
	note "edu not bound to vfio-pci in L1: vfio figures skipped"
	return 0 2>/dev/null || exit 0
fi
bar() { sed -n "s/^ *vfio $EDU_SHORT BAR0 *\([0-9][0-9]*\)\$/\1/p" "$1" | head -n1; }
EDU_SHORT=${EDU_BDF#0000:}
for mode in fast trap; do
	extra=
	[ $mode = trap ] && extra=--vfio-trap-bars
	case_run "vfio-bench-$mode" checks timeout=300 -- kvmini --vfio "$EDU_BDF" $extra \
		--net none --cmdline "edu_bench=$N edu_bench_only"
	kvmini --vfio "$EDU_BDF" $extra --net none --stats --cmdline "edu_bench_only" \
		>/tmp/vb.$mode.base 2>&1
	kvmini --vfio "$EDU_BDF" $extra --net none --stats \
		--cmdline "edu_bench=$N edu_bench_only" >/tmp/vb.$mode 2>&1
	b0=$(bar /tmp/vb.$mode.base)
	b1=$(bar /tmp/vb.$mode)
	best=$(sed -n 's/^edu: bench-best: [0-9]* reads in \([0-9][0-9]*\) us.*/\1/p' /tmp/vb.$mode)
	note "vfio $mode: BAR0 exits without reads $b0, with $N reads $b1; fastest rounds x10: $best us"
	[ -n "$b0" ] && [ -n "$b1" ] && bench "vfio_${mode}_bar0_exits_per_1000_reads" \
		$(((b1 - b0) * 1000 / N)) exits
	[ -n "$best" ] && bench "vfio_${mode}_bar0_us_per_${N}_reads" "$best" us
	eval "best_$mode=\$best"
done
if [ -n "$best_fast" ] && [ -n "$best_trap" ] && [ "$best_fast" -gt 0 ]; then
	bench vfio_bar0_time_ratio_trap_over_fast $((best_trap / best_fast)) x
fi
