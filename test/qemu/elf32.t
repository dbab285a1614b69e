#!/bin/bash
# elf32.t - the tiny guest linked a second time as an ELF32 (build/guest32.elf,
# objcopy -O elf32-i386 of the same objects: same code, same PVH note) and
# booted under QEMU's own PVH loader, with every check crosscheck.t makes.
# kvmini boots the same file in test/nested/scenarios/foundation.sh.
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
GUEST=$build/guest32.elf XC_NAME=elf32 XC_WHAT="ELF32 guest" exec test/qemu/crosscheck.t
