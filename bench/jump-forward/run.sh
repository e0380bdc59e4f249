#!/usr/bin/env bash
# Jump-forward against decoding token by token, on the README's eval seeds: every tabletop
# template, grid level and kitchen instruction, closed-loop, gd-greedy and gd-beam, run once
# with --jump-forward false and once with true. Prints, per task and in all, the language
# model's forward passes per plan, the planning latency per plan (wall time choosing skills,
# LM included) and whether the episodes' plans are the same; every episode whose skills
# differ is listed. Records (JSON lines) and the report go to $OUT.
#
#   bash bench/jump-forward/run.sh                  # README seeds: tabletop 20, grid 100, kitchen 20 episodes
#   EPISODES=5 bash bench/jump-forward/run.sh       # fewer episodes per task
#   DOMAINS=kitchen bash bench/jump-forward/run.sh  # one domain
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-target/jump-forward}"
mkdir -p "$out"
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
for domain in ${DOMAINS:-tabletop grid kitchen}; do
    case "$domain" in
        grid) episodes="${EPISODES:-100}" ;;
        *) episodes="${EPISODES:-20}" ;;
    esac
    for jump in false true; do
        started=$SECONDS
        # One worker: the latencies are not shared with another episode's planning.
        ./target/debug/grounded eval --domain "$domain" --methods gd-greedy,gd-beam \
            --episodes "$episodes" --seed 0 --transport local --workers 1 \
            --jump-forward "$jump" --out "$out/$domain-$jump.jsonl" > /dev/null
        echo "# $domain, jump-forward $jump: $((SECONDS - started)) s" >&2
    done
done
python3 bench/jump-forward/compare.py "$out" | tee "$out/report.md"
