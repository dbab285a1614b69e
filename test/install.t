#!/bin/bash
# install.t - make install puts kvmini and kvmini(1) under DESTDIR/PREFIX;
# the man page renders without a warning and names every option of
# --help and every exit status of the README's table.  Needs no /dev/kvm.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
echo "1..6"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
n=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

make --no-print-directory -s install DESTDIR="$dest" PREFIX=/opt/kv >/dev/null 2>&1
t $? "make install DESTDIR=... PREFIX=/opt/kv succeeds"
[ -x "$dest/opt/kv/bin/kvmini" ] && [ -f "$dest/opt/kv/share/man/man1/kvmini.1" ]
t $? "binary in PREFIX/bin, man page in PREFIX/share/man/man1"
"$dest/opt/kv/bin/kvmini" --version | grep -q '^kvmini '
t $? "the installed binary runs (--version)"

man_page=$dest/opt/kv/share/man/man1/kvmini.1
if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
	for i in 4 5 6; do n=$((n + 1)); echo "ok $n # SKIP man-db/groff not installed (make deps)"; done
	exit 0
fi
warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l "$man_page" 2>&1 >"$dest/man.txt")
[ -z "$warn" ] && [ -s "$dest/man.txt" ]
t $? "man -l renders kvmini(1) without warnings"
[ -n "$warn" ] && echo "$warn" | sed 's/^/#   /'

missing=
for o in $("$build/kvmini" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
	grep -qF -- "$o" "$dest/man.txt" || missing="$missing $o"
done
[ -z "$missing" ]
t $? "every option of --help is in the man page${missing:+ (missing:$missing)}"

missing=
for c in $(sed -n '/^### Exit status/,/^## /p' README.md | grep -oE '^\| [0-9][0-9, ]*' | tr -dc '0-9 \n' ); do
	grep -qE "^ {7}$c\b|^ {7}[0-9]+, $c\b" "$dest/man.txt" || missing="$missing $c"
done
[ -z "$missing" ]
t $? "every exit status of the README's table is in EXIT STATUS${missing:+ (missing:$missing)}"
