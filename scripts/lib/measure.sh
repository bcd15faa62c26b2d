# Shared by the benchmark scripts (sourced, not run). Needs RUNS (how many timed runs) and
# RESULTS (file that collects "KEY wall rss_kb" lines), and /usr/bin/time.
#
# measure KEY CMD... -> runs CMD once to warm the page cache, then RUNS times; prints the best
# wall time and the peak RSS, and records "KEY wall rss_kb" in RESULTS.
measure() {
    local key=$1; shift
    local best="" rss=0 code=0 t wall kb
    "$@" >/dev/null 2>&1 || true   # warm the page cache
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -o "$RESULTS.time" -f '%e %M %x' "$@" >/dev/null 2>&1 || true
        t=$(tail -1 "$RESULTS.time")
        read -r wall kb code <<<"$t"
        if [[ -z $best ]] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; fi
        ((kb > rss)) && rss=$kb
    done
    printf '%-28s %8.2f s %9.1f MB  (exit %s)\n' "$key" "$best" "$(awk "BEGIN{print $rss/1024}")" "$code"
    echo "$key $best $rss" >>"$RESULTS"
}
