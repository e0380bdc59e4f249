#!/usr/bin/env bash
# Asking for help, in all three domains: calibrate on seed $CAL_SEED (CAL_EPISODES per task),
# then evaluate never asking, the margin baseline and the calibrated sets for epsilon 0.05,
# 0.15 and 0.25 on seed $SEED (EPISODES per task), with a simulated operator who answers
# correctly. The thresholds hold for the calibration in hand with probability 1 - $DELTA
# (grounded calibrate --delta; DELTA=off: the marginal guarantee, on average over
# calibrations). Writes each domain's calibration (JSON), tables (Markdown) and records
# (JSON lines) to $OUT and prints the tables.
#
#   bash bench/ask/run.sh                        # 40 calibration and 10 test episodes per task
#   CAL_EPISODES=80 EPISODES=20 bash bench/ask/run.sh
#   DELTA=off OUT=target/ask-marginal bash bench/ask/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cal_episodes="${CAL_EPISODES:-40}"
cal_seed="${CAL_SEED:-1}"
episodes="${EPISODES:-10}"
seed="${SEED:-0}"
out="${OUT:-target/ask}"
delta=(--delta "${DELTA:-0.05}")
if [ "${DELTA:-}" = off ]; then delta=(); fi
mkdir -p "$out"
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
for domain in tabletop grid kitchen; do
    started=$SECONDS
    ./target/debug/grounded calibrate --domain "$domain" --episodes "$cal_episodes" --seed "$cal_seed" "${delta[@]}" \
        --out "$out/$domain-calibration.json" >&2
    ./target/debug/grounded eval --domain "$domain" --ask-for-help "$out/$domain-calibration.json" \
        --episodes "$episodes" --seed "$seed" --out "$out/$domain.jsonl" > "$out/$domain.md"
    echo "# $domain ($((SECONDS - started)) s): $out/$domain.md" >&2
    cat "$out/$domain.md"
done
