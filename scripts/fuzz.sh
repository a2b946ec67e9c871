#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in fuzz/ (cargo-fuzz, libFuzzer):
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Runs each target SECONDS (default 60) with AddressSanitizer when a nightly
# toolchain is present, else without a sanitizer on stable. JOBS=2 runs two
# targets at a time (default 1). Seeds: the committed corpus
# fuzz/corpus/TARGET (read only); new inputs go to fuzz/work/corpus/TARGET,
# logs to fuzz/work/logs/TARGET.log, crashes to fuzz/artifacts/TARGET/.
# Prints libFuzzer's final line per target (execs, cov, ft); exits 1 when a
# target crashed. The bodies are the library's cargo feature `fuzzing`
# (src/fuzzing/), which fuzz/Cargo.toml turns on; no flag is needed here. Needs cargo-fuzz: `cargo install cargo-fuzz --locked`
# (4 min here; not a CI step: CI replays the corpus in `cargo test`,
# tests/fuzz_corpus.rs). Sends nothing: the targets are sans-IO.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT/fuzz"
SECS=${1:-60}
shift || true
ALL=(engine packet txt url config config_file capi dns_message dns_tsig dns_exchange)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi
JOBS=${JOBS:-1}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz missing: cargo install cargo-fuzz --locked" >&2
    exit 2
fi
if cargo +nightly --version >/dev/null 2>&1; then
    TOOL=(cargo +nightly fuzz)
    SAN=address
else
    # Stable: no sanitizer (RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z flags).
    export RUSTC_BOOTSTRAP=1
    TOOL=(cargo fuzz)
    SAN=none
fi
echo "fuzz.sh: ${TARGETS[*]}, ${SECS}s each, sanitizer $SAN, $JOBS at a time"
"${TOOL[@]}" build -s "$SAN"

max_len() {
    case "$1" in
        engine) echo 9100 ;;   # one datagram of up to 9000 bytes and steps
        packet) echo 9100 ;;   # RFC 6762 s17
        dns_message|dns_tsig) echo 4200 ;;   # a DNS message, header bytes
        dns_exchange) echo 8192 ;;   # answers and steps
        *) echo 2048 ;;
    esac
}

run_one() {
    local t=$1 log=work/logs/$1.log
    mkdir -p "work/corpus/$t" work/logs "artifacts/$t"
    local rc=0
    "${TOOL[@]}" run -s "$SAN" "$t" "work/corpus/$t" "corpus/$t" -- \
        -max_total_time="$SECS" -max_len="$(max_len "$t")" -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 >"$log" 2>&1 || rc=$?
    local last
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    if [ $rc -ne 0 ]; then
        echo "fuzz.sh: $t CRASHED (rc $rc): $last; see fuzz/$log, fuzz/artifacts/$t/"
    else
        echo "fuzz.sh: $t ok: $last"
    fi
    return $rc
}

fail=0
pids=()
names=()
for t in "${TARGETS[@]}"; do
    run_one "$t" & pids+=($!); names+=("$t")
    if [ ${#pids[@]} -ge "$JOBS" ]; then
        wait "${pids[0]}" || fail=1
        pids=("${pids[@]:1}"); names=("${names[@]:1}")
    fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail
