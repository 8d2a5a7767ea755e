#!/usr/bin/env bash
# Fuzz one target for a while on one core, at the lowest priority:
#   fuzz/run.sh TARGET [SECONDS]        (default 600)
# Builds with optimizations and overflow checks (-O -a), seeds from fuzz/seeds (make_seeds.sh),
# keeps the growing corpus in fuzz/corpus/TARGET and crashes in fuzz/artifacts/TARGET/.
# Caps: 10 s per input (a hang), 2 GiB RSS, 512 MiB in one allocation (an input of at most
# 64 KiB has no business asking for more). Runs in libFuzzer's fork mode with one worker, going on
# past crashes, timeouts and OOMs (each is saved under artifacts/), so one known bug does not end a
# long run. FORK=0 runs in the classic mode instead (stops at the first finding).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?target: link_object, link_many, link_archive, script_args, linker_script or version_script}
secs=${2:-600}
[ -d seeds ] || ./make_seeds.sh
[ -n "${NO_BUILD:-}" ] || cargo +nightly fuzz build -O -a "$target"
mkdir -p "corpus/$target" "artifacts/$target"
fork=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
[ "${FORK:-1}" = 1 ] || fork=()
exec nice -n 19 "target/x86_64-unknown-linux-gnu/release/$target" "${fork[@]}" \
  -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 \
  -dict=fuzz.dict -artifact_prefix="artifacts/$target/" -print_final_stats=1 \
  "corpus/$target" "seeds/$target"
