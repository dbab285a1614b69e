# vfio-backends.sh - the two VFIO IOMMU backends side by side on the L1
# kernel that has both (test/nested/kernel-iommufd.sh): time from kvmini's
# start to "realized", the backend's attach and the DMA map of guest RAM,
# and the ioctls of each attach.  Runs alternate container / iommufd so a
# busy host slows both alike; medians of RUNS each (TCG: noisy, compare the
# backends only with each other).
# l1: --kernel iommufd --timeout 600
runs=${VFIO_BACKEND_RUNS:-5}

# One run of each through case_run, so a broken backend fails the benchmark.
case_run bench-iommufd checks -- kvmini --vfio "$EDU_BDF" --vfio-backend iommufd --net none
case_run bench-container checks -- kvmini --vfio "$EDU_BDF" --vfio-backend container --net none

i=0
while [ $i -lt $runs ]; do
	for b in container iommufd; do
		kvmini --vfio "$EDU_BDF" --vfio-backend $b --net none --stats \
			--cmdline edu_bench_only >/tmp/$b.$i 2>&1
	done
	i=$((i + 1))
done
# median B "stats line": the median over the runs of that --stats figure.
median() {
	local j=0 all=
	while [ $j -lt $runs ]; do
		all="$all $(tr -d '\r' </tmp/$1.$j | awk -v k="$2" 'index($0, k) { print $NF; exit }')"
		j=$((j + 1))
	done
	note "$1 $2:$all" >&2
	echo $all | tr ' ' '\n' | sort -n | sed -n "$(((runs + 1) / 2))p"
}
for k in "start to realized us:realized_us" "attach us:attach_us" "dma map us:dma_map_us" \
	"attach ioctls:attach_ioctls"; do
	what=${k%%:*}
	ct=$(median container "$what")
	fd=$(median iommufd "$what")
	bench "vfio_container_${k##*:}" "${ct:-nan}" "${what##* }"
	bench "vfio_iommufd_${k##*:}" "${fd:-nan}" "${what##* }"
	if [ -n "$fd" ] && [ -n "$ct" ] && [ "$ct" -gt 0 ]; then
		bench "vfio_iommufd_over_container_${k##*:}_x100" "$((fd * 100 / ct))" x100
	fi
done
