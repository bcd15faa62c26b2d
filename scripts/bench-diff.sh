#!/usr/bin/env bash
# Benchmark (not a test): `strata diff A B` against two `strata report`s on two generated ~650 MB
# images that share a ~190 MB base layer and each add ~450 MB, uncompressed and gzip. Reports
# wall time (best of N) and peak RSS (max of N), and the ratios of issue 12 measured in the same
# run: diff wall / (report A + report B) wall, diff peak RSS / the larger report's. A third
# pair, `outer`, has B compressed as a whole (a stream: shared layers known by size and digest).
#   bash scripts/bench-diff.sh [RUNS]        (default 3; images are generated once into target/bench;
#                                             honours CARGO_TARGET_DIR)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${1:-3}
OUT=$ROOT/target/bench
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
cargo build --release --bin strata --example bench_diff_images 2>&1 | tail -1
REL=${CARGO_TARGET_DIR:-$ROOT/target}/release
[[ -f $OUT/diff-b-gzip.tar ]] || "$REL/examples/bench_diff_images" "$OUT"
STRATA=$REL/strata

RESULTS=$OUT/diff-results.txt
# shellcheck source=scripts/lib/measure.sh
source "$ROOT/scripts/lib/measure.sh"

: >"$OUT/diff-results.txt"
echo "images: $(du -h "$OUT/diff-a-plain.tar" | cut -f1) + $(du -h "$OUT/diff-b-plain.tar" | cut -f1) plain, $(du -h "$OUT/diff-a-gzip.tar" | cut -f1) + $(du -h "$OUT/diff-b-gzip.tar" | cut -f1) gzip; runs=$RUNS, cores=$(nproc)"
"$STRATA" diff "$OUT/diff-a-plain.tar" "$OUT/diff-b-plain.tar" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["size"]
print("A", s["a"]["total_bytes"], "B", s["b"]["total_bytes"], "file bytes; shared layers", len(d["layers"]["shared"]),
      "(", sum(l["size_bytes"] for l in d["layers"]["shared"]), "bytes ); changes +%d -%d ~%d" % (d["files"]["added"], d["files"]["removed"], d["files"]["modified"]))'
# B compressed as a whole (`docker save | gzip`): a stream whose layer list comes last.
[[ -f $OUT/diff-b-outer.tar.gz ]] || gzip -1 -c "$OUT/diff-b-plain.tar" >"$OUT/diff-b-outer.tar.gz"
for kind in plain gzip outer; do
    a=$OUT/diff-a-$kind.tar
    b=$OUT/diff-b-$kind.tar
    if [[ $kind == outer ]]; then
        a=$OUT/diff-a-plain.tar
        b=$OUT/diff-b-outer.tar.gz
    fi
    measure "report-a/$kind" "$STRATA" report "$a" --format json
    measure "report-b/$kind" "$STRATA" report "$b" --format json
    measure "diff/$kind" "$STRATA" diff "$a" "$b" --format json
done
python3 - "$OUT/diff-results.txt" <<'PY'
import sys
rows = {k: (float(w), int(r)) for k, w, r in (l.split() for l in open(sys.argv[1]))}
print("\nratios in this run (issue 12: wall <= 0.9x, peak RSS <= 1.5x):")
for kind in ("plain", "gzip", "outer"):
    aw, ar = rows[f"report-a/{kind}"]
    bw, br = rows[f"report-b/{kind}"]
    dw, dr = rows[f"diff/{kind}"]
    print(f"  {kind}: diff wall {dw/(aw+bw):.2f}x the two reports together; peak RSS {dr/max(ar, br):.2f}x one report's")
PY
