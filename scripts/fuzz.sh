#!/bin/sh
# Builds the libFuzzer targets (Fuzz/, docs/security-testing.md) and runs each for
# FUZZ_SECONDS (default 60). Fails on any crash, leak, timeout or broken invariant,
# and on a target that ran no inputs; prints the executions of each.
#   scripts/fuzz.sh [target ...]        FUZZ_SECONDS=3600 for a long campaign
#   FUZZ_CLIENT=0 scripts/fuzz.sh       all but the client targets (CI's smoke)
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
work=.build-fuzz  # corpora and artifacts
export SWIFT_BACKTRACE=enable=no  # else each crash stalls libFuzzer while a backtrace is made

# These need NIO, NIOSSL and the client built under the sanitizers (about four CPU-minutes
# more, cold): a separate build, made only when one of them runs.
client_targets="payload engine profile"
variant=1
if [ "${FUZZ_CLIENT:-1}" != 0 ]; then
    if [ $# -eq 0 ]; then variant=client; fi
    for target in "$@"; do
        case " $client_targets " in *" $target "*) variant=client ;; esac
    done
fi
scratch=$work
if [ "$variant" = client ]; then scratch=.build-fuzz-client; fi
binary=$scratch/debug/catroom-fuzz

CATROOM_FUZZ=$variant swift build --scratch-path "$scratch" --product catroom-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
targets=${*:-$("$binary" --list)}

mkdir -p "$work/artifacts"
failed=0
summary=""
for target in $targets; do
    corpus=$work/corpus/$target  # grows as libFuzzer finds new coverage; the seeds stay in Fuzz/corpus
    mkdir -p "$corpus"
    options=""
    case $target in
    xml | xml-differential | stanza) options=-dict=Fuzz/xml.dict ;;
    esac
    log=$work/artifacts/$target.log
    echo "== $target: $seconds s"
    status=0
    "$binary" "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$target-" $options \
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
