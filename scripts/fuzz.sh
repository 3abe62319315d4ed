#!/bin/sh
# Builds the libFuzzer targets (Fuzz/, docs/security-testing.md) and runs each for
# FUZZ_SECONDS (default 60). Fails on any crash, leak, timeout or broken invariant,
# and on a target that ran no inputs; prints the executions of each.
#   scripts/fuzz.sh [target ...]        FUZZ_SECONDS=3600 for a long campaign
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
scratch=.build-fuzz
binary=$scratch/debug/catroom-fuzz
export SWIFT_BACKTRACE=enable=no  # else each crash stalls libFuzzer while a backtrace is made

CATROOM_FUZZ=1 swift build --scratch-path "$scratch" --product catroom-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
targets=${*:-$("$binary" --list)}

mkdir -p "$scratch/artifacts"
failed=0
summary=""
for target in $targets; do
    corpus=$scratch/corpus/$target  # grows as libFuzzer finds new coverage; the seeds stay in Fuzz/corpus
    mkdir -p "$corpus"
    dictionary=""
    case $target in xml | stanza) dictionary=-dict=Fuzz/xml.dict ;; esac
    log=$scratch/artifacts/$target.log
    echo "== $target: $seconds s"
    status=0
    "$binary" "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$scratch/artifacts/$target-" $dictionary \
        "$corpus" "Fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    coverage=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW)' "$log" | tail -1 | sed -n 's/.*\(cov: [0-9]* ft: [0-9]*\).*/\1/p')
    line="$target: ${runs:-0} executions in $seconds s, ${coverage:-no coverage reported}"
    if [ "$status" -ne 0 ]; then
        line="$line; FAILED (exit $status), see $log"
        grep -E 'INVARIANT FAILED|ERROR: |SUMMARY: ' "$log" | head -5
        failed=1
    elif [ "${runs:-0}" -eq 0 ]; then
        line="$line; FAILED: ran no inputs, see $log"
        failed=1
    fi
    echo "$line"
    summary="$summary$line
"
done
echo
echo "fuzz summary:"
printf '%s' "$summary"
exit $failed
