#!/bin/bash
# smoke-prep.sh - take the README's smoke-test recipe and the tour's
# commands out of the documents, so the nested rig runs exactly what they
# say (scenarios/smoke.sh; run on the host by l1.sh before L1 boots).
#   README.md:    the sh block between <!-- recipe:begin --> and <!-- recipe:end -->
#   docs/tour.md: the sh block between <!-- tour:commands:begin --> and ...:end -->
set -euo pipefail
build=${BUILD:-build}
mkdir -p "$build/nested"
block() { # FILE TAG -> the fenced block's body
	sed -n "/<!-- $2:begin -->/,/<!-- $2:end -->/p" "$1" | sed '1,2d; $d' | sed '$d'
}
block README.md recipe >"$build/nested/recipe.sh"
block docs/tour.md tour:commands >"$build/nested/tour.sh"
for f in recipe tour; do
	[ -s "$build/nested/$f.sh" ] || { echo "smoke-prep: no $f block found" >&2; exit 1; }
done
