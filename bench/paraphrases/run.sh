#!/usr/bin/env bash
# The paraphrase benchmark: every held-out paraphrase in this folder, evaluated on the same
# episodes as its task's own wording, in all three domains (grounded eval --instructions).
# Writes each domain's tables (Markdown) and records (JSON) to $OUT, and prints the tables.
#
#   bash bench/paraphrases/run.sh                          # 20 episodes per task, seed 0
#   EPISODES=10 METHODS=llm,gd-greedy,gd-beam bash bench/paraphrases/run.sh
#   GROUNDED_MODEL=path/to/model bash bench/paraphrases/run.sh   # another model
set -euo pipefail
cd "$(dirname "$0")/../.."
episodes="${EPISODES:-20}"
seed="${SEED:-0}"
methods="${METHODS:-llm,gd-beam}"
out="${OUT:-target/paraphrases}"
mkdir -p "$out"
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
for domain in tabletop grid kitchen; do
    started=$SECONDS
    ./target/debug/grounded eval --domain "$domain" --instructions "bench/paraphrases/$domain.tsv" \
        --episodes "$episodes" --seed "$seed" --methods "$methods" --transport local \
        --out "$out/$domain.jsonl" > "$out/$domain.md"
    echo "# $domain ($((SECONDS - started)) s): $out/$domain.md" >&2
    sed -n '1,/^Per task/p' "$out/$domain.md" | head -n -1
done
