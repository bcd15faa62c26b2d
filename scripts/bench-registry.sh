#!/usr/bin/env bash
# Benchmark (not a test) of the registry source, figures as ratios measured in one run:
#   - a ~2 GB image of 8 gzip layers, pushed to a `docker-registry` on loopback;
#   - through this script's own proxy limited to 50 MB/s (a realistic link):
#       strata report registry:…  vs  skopeo copy docker://… dir:… (download only);
#   - on plain loopback: strata report registry:… (no cache) vs strata report on the same image
#     as an OCI archive on disk; a second run from the blob cache vs the archive;
#   - peak RSS of each (GNU time).
#   bash scripts/bench-registry.sh [RUNS]   (default 1; the image is generated once into
#   target/bench-registry; set BENCH_MB to change the uncompressed size, default 2048;
#   BENCH_PROFILE=dev measures the dev build instead of building a release one; honours
#   CARGO_TARGET_DIR)
#   BENCH_CONTENT picks what the layers hold:
#     files     (default) the machine's own /usr files, in path order: binaries, libraries and
#               text as a real image holds them, so gzip decoding is the bottleneck, as the
#               issue's loopback figure supposes;
#     synthetic 8 MB files, half random (stored by gzip) and half one repeated line: decoding
#               is nearly free, so this measures the cost of moving bytes through the registry.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${1:-1}
MB=${BENCH_MB:-2048}
CONTENT=${BENCH_CONTENT:-files}
[[ $CONTENT == files || $CONTENT == synthetic ]] || { echo "BENCH_CONTENT must be files or synthetic" >&2; exit 2; }
OUT=$ROOT/target/bench-registry-$CONTENT
mkdir -p "$OUT"
bash scripts/ensure-deps.sh >/dev/null
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
PROFILE=${BENCH_PROFILE:-release}
cargo build --profile "$PROFILE" --bin strata 2>&1 | tail -1
STRATA=${CARGO_TARGET_DIR:-$ROOT/target}/$([[ $PROFILE == dev ]] && echo debug || echo "$PROFILE")/strata
export STRATA_CACHE_DIR=$OUT/cache

# ---- the image: 8 layers of MB/8 each (half random, half text: gzip ~0.55), OCI layout + archive
if [[ ! -f $OUT/image.tar || $(cat "$OUT/image.mb" 2>/dev/null) != "$MB" ]]; then
    echo "generating a ${MB} MB image of 8 gzip layers ($CONTENT) in $OUT (once)"
    rm -rf "$OUT/layout" "$OUT/image.tar"
    python3 - "$OUT/layout" "$MB" "$CONTENT" <<'PY'
import gzip, hashlib, io, json, os, subprocess, sys, tarfile
root, mb, content = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def system_files():
    # Regular files under /usr in path order, each at most 64 MB, repeated if /usr is small.
    while True:
        for top, dirs, names in os.walk("/usr"):
            dirs.sort()
            for n in sorted(names):
                p = os.path.join(top, n)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if os.path.isfile(p) and not os.path.islink(p) and 0 < st.st_size <= 64 << 20:
                    try:
                        yield p, open(p, "rb").read()
                    except OSError:
                        continue
files = system_files()
os.makedirs(f"{root}/blobs/sha256", exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return d
per_layer = mb * (1 << 20) // 8
text = (b"strata benchmark line of text that compresses well enough, more or less. " * 64)
layers, diff_ids = [], []
for i in range(8):
    tar_path = f"{root}/layer{i}.tar"
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as t:
        size, n = 0, 0
        while size < per_layer:
            if content == "files":
                path, data = next(files)
                data = data[: per_layer - size]
                name = f"layer{i}{path}"
            else:
                fsize = min(8 << 20, per_layer - size)
                half = fsize // 2
                data = os.urandom(half) + (text * (fsize // len(text) + 1))[: fsize - half]
                name = f"layer{i}/file{n:05d}.bin"
            fsize = len(data)
            info = tarfile.TarInfo(name); info.size = fsize; info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data)); size += fsize; n += 1
    diff_ids.append("sha256:" + hashlib.sha256(open(tar_path, "rb").read()).hexdigest())
    subprocess.run(["gzip", "-6", "-n", "-f", tar_path], check=True)
    blob = open(tar_path + ".gz", "rb").read(); os.remove(tar_path + ".gz")
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + put(blob), "size": len(blob)})
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
    "history": [{"created_by": f"layer {i}"} for i in range(8)]}).encode()
cdesc = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + put(config), "size": len(config)}
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cdesc, "layers": layers}).encode()
mdesc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + put(manifest), "size": len(manifest),
    "annotations": {"org.opencontainers.image.ref.name": "bench"}}
json.dump({"schemaVersion": 2, "manifests": [mdesc]}, open(f"{root}/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{root}/oci-layout", "w"))
PY
    tar -C "$OUT/layout" -cf "$OUT/image.tar" oci-layout index.json blobs
    echo "$MB" >"$OUT/image.mb"
fi

# ---- a registry on loopback, and the 50 MB/s proxy in front of it
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PROXY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=$OUT/registry
rm -rf "$REG"; mkdir -p "$REG"
cat >"$REG/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG/data
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$REG/config.yml" >"$REG/log" 2>&1 &
REG_PID=$!
python3 - "$PROXY_PORT" "$PORT" "${BENCH_RATE_MB:-50}" >"$REG/proxy.log" 2>&1 <<'PY' &
# A TCP relay limiting each direction of the whole proxy to RATE MB/s (one token bucket).
import socket, sys, threading, time
lport, uport, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) * 1e6
lock = threading.Lock(); state = {"t": time.monotonic(), "tokens": 0.0}
def take(n):
    while True:
        with lock:
            now = time.monotonic(); state["tokens"] = min(rate / 10, state["tokens"] + (now - state["t"]) * rate); state["t"] = now
            if state["tokens"] >= n: state["tokens"] -= n; return
            need = (n - state["tokens"]) / rate
        time.sleep(need)
def pipe(src, dst, limit):
    try:
        while True:
            b = src.recv(65536)
            if not b: break
            if limit: take(len(b))
            dst.sendall(b)
    except OSError: pass
    finally:
        for s in (src, dst):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); srv.bind(("127.0.0.1", lport)); srv.listen(64)
while True:
    c, _ = srv.accept(); u = socket.create_connection(("127.0.0.1", uport))
    threading.Thread(target=pipe, args=(c, u, False), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c, True), daemon=True).start()
PY
PROXY_PID=$!
trap 'kill $REG_PID $PROXY_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci:$OUT/layout:bench" "docker://127.0.0.1:$PORT/bench:1"

: >"$OUT/results.txt"
# measure KEY CMD... -> best wall time and max peak RSS of RUNS runs
measure() {
    local key=$1; shift
    local best="" rss=0 wall kb code
    for _ in $(seq "$RUNS"); do
        [[ $key == *cached* ]] || rm -rf "$OUT/dl" "$STRATA_CACHE_DIR"
        /usr/bin/time -o "$OUT/time.txt" -f '%e %M %x' "$@" >/dev/null 2>"$OUT/stderr.txt" || true
        read -r wall kb code <<<"$(tail -1 "$OUT/time.txt")"
        if [[ $code != 0 ]]; then echo "$key failed: $(cat "$OUT/stderr.txt")" >&2; fi
        if [[ -z $best ]] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; fi
        ((kb > rss)) && rss=$kb
    done
    printf '%-34s %8.2f s %9.1f MB\n' "$key" "$best" "$(awk "BEGIN{print $rss/1024}")"
    echo "$key $best $rss" >>"$OUT/results.txt"
}
cat "$OUT/image.tar" >/dev/null   # warm the page cache for the archive runs
echo "image: ${MB} MB uncompressed ($CONTENT), $(du -h "$OUT/image.tar" | cut -f1) as an OCI archive, 8 gzip layers; runs=$RUNS, cores=$(nproc), strata profile=$PROFILE"
measure "skopeo-download/50MBps" skopeo --insecure-policy copy --quiet --src-tls-verify=false "docker://127.0.0.1:$PROXY_PORT/bench:1" "dir:$OUT/dl"
measure "strata-registry/50MBps" "$STRATA" report --format json --no-cache "registry:127.0.0.1:$PROXY_PORT/bench:1"
measure "strata-archive" "$STRATA" report --format json "oci-archive:$OUT/image.tar"
measure "strata-registry/loopback" "$STRATA" report --format json --no-cache "registry:127.0.0.1:$PORT/bench:1"
rm -rf "$STRATA_CACHE_DIR"
"$STRATA" report --format json "registry:127.0.0.1:$PORT/bench:1" >/dev/null   # fill the cache
measure "strata-registry/cached" "$STRATA" report --format json "registry:127.0.0.1:$PORT/bench:1"
rm -rf "$OUT/dl"

# ---- the explorer: time from the process start until the first frame showing the layer list
# (strata's STRATA_FIRST_FRAME, in a real terminal: tmux). Not cached, loopback; the median of
# max(RUNS, 5) starts.
first_screen() {   # KEY REFERENCE -> median ms
    local key=$1 ref=$2 n i out times=()
    command -v tmux >/dev/null || { echo "$key: tmux missing, not measured"; return; }
    n=$((RUNS < 5 ? 5 : RUNS))
    for i in $(seq "$n"); do
        rm -rf "$STRATA_CACHE_DIR" "$OUT/first-frame.txt"
        tmux kill-session -t strata-bench 2>/dev/null || true
        tmux new-session -d -s strata-bench -x 160 -y 45 \
            "STRATA_FIRST_FRAME=1 STRATA_CACHE_DIR=$STRATA_CACHE_DIR $STRATA --no-cache $ref 2>$OUT/first-frame.txt"
        sleep 1.5
        tmux send-keys -t strata-bench q
        for _ in $(seq 50); do [[ -s $OUT/first-frame.txt ]] && break; sleep 0.1; done
        tmux kill-session -t strata-bench 2>/dev/null || true
        out=$(grep -o 'first frame with layers after [0-9.]*' "$OUT/first-frame.txt" | grep -o '[0-9.]*$' || true)
        [[ -n $out ]] || { echo "$key: no first frame: $(cat "$OUT/first-frame.txt")" >&2; continue; }
        times+=("$(awk "BEGIN{printf \"%d\", $out * 1000}")")
    done
    ((${#times[@]})) || return 0
    local sorted median
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    median=$(echo "$sorted" | sed -n "$(( (${#times[@]} + 1) / 2 ))p")
    printf '%-34s %8s ms (median of %d; all: %s)\n' "$key" "$median" "${#times[@]}" "$(echo $sorted)"
    echo "$key $median 0" >>"$OUT/results.txt"
}
first_screen "explorer-layers/registry" "registry:127.0.0.1:$PORT/bench:1"
first_screen "explorer-layers/archive" "oci-archive:$OUT/image.tar"

python3 - "$OUT/results.txt" <<'PY'
import sys
r = {k: (float(w), int(kb)) for k, w, kb in (l.split() for l in open(sys.argv[1]))}
def ratio(a, b): return r[a][0] / r[b][0]
print()
print(f"registry (50 MB/s) / skopeo download-only (50 MB/s): {ratio('strata-registry/50MBps', 'skopeo-download/50MBps'):.3f}x  (target <= 1.05)")
print(f"registry (loopback) / archive analysis:               {ratio('strata-registry/loopback', 'strata-archive'):.3f}x  (target <= 1.15)")
print(f"registry from cache / archive analysis:               {ratio('strata-registry/cached', 'strata-archive'):.3f}x  (target <= 1.05)")
print(f"peak RSS registry (loopback) - archive:               {(r['strata-registry/loopback'][1] - r['strata-archive'][1]) / 1024:+.1f} MiB  (target <= +64)")
print(f"peak RSS registry (50 MB/s) - archive:                {(r['strata-registry/50MBps'][1] - r['strata-archive'][1]) / 1024:+.1f} MiB")
if "explorer-layers/registry" in r:
    print(f"explorer layer list on screen, registry (loopback):  {r['explorer-layers/registry'][0]:.0f} ms  (target <= 200; archive: {r['explorer-layers/archive'][0]:.0f} ms)")
PY
