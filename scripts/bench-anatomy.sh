#!/usr/bin/env bash
# Benchmark (not a test): the explorer's layer switch with redraw, with the anatomy view closed
# and open, and the anatomy view's raw-entry listing of the largest layer (read once, then
# paged) on the generated 224k-entry benchmark image (examples/bench_image.rs).
#   bash scripts/bench-anatomy.sh      (the image is generated once into target/bench; honours
#                                       CARGO_TARGET_DIR)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/target/bench
cargo build --release --example bench_image --example bench_anatomy 2>&1 | tail -1
REL=${CARGO_TARGET_DIR:-$ROOT/target}/release
[[ -f $OUT/bench-plain.tar ]] || "$REL/examples/bench_image" "$OUT"
"$REL/examples/bench_anatomy" "$OUT/bench-plain.tar"
