#!/usr/bin/env bash
# The paraphrase benchmark: every held-out paraphrase in this folder, evaluated on the same
# episodes as its task's own wording, in all three domains (grounded eval --instructions).
# Writes each domain's tables (Markdown) and records (JSON) to $OUT, and prints the tables.
#
#   bash bench/paraphrases/run.sh                          # 20 episodes per task, seed 0
#   EPISODES=10 METHODS=llm,gd-greedy,gd-beam bash bench/paraphrases/run.sh
#   GROUNDED_MODEL=path/to/model bash bench/paraphrases/run.sh   # another model
#   CASE=capitals bash bench/paraphrases/run.sh            # every paraphrase in capitals, as
#                                                          # some speech recognisers write
#   CASE=capitalised bash bench/paraphrases/run.sh         # every word capitalised
#                                                          # (slots filled so too: {WORD}, {Word})
set -euo pipefail
cd "$(dirname "$0")/../.."
episodes="${EPISODES:-20}"
seed="${SEED:-0}"
methods="${METHODS:-llm,gd-beam}"
out="${OUT:-target/paraphrases}"
case "${CASE:-}" in
    "" | capitals | capitalised) ;;
    *) echo "CASE=${CASE}: say capitals or capitalised (or leave CASE unset)" >&2; exit 2 ;;
esac
mkdir -p "$out"
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
for domain in tabletop grid kitchen; do
    started=$SECONDS
    wordings="bench/paraphrases/$domain.tsv"
    if [ -n "${CASE:-}" ]; then
        # Each instruction (its slots' names too, which eval then fills so) in capitals,
        # or with every word capitalised.
        python3 -c 'import re, sys
for line in open(sys.argv[1]):
    task, tab, text = line.partition("\t")
    if line.startswith("#") or not tab:
        print(line, end="")
    else:
        said = text.upper() if sys.argv[2] == "capitals" else re.sub(r"(?<![\w\x27])([a-z])", lambda m: m.group(1).upper(), text)
        print(task + tab + said, end="")' "$wordings" "$CASE" > "$out/$CASE-$domain.tsv"
        wordings="$out/$CASE-$domain.tsv"
    fi
    ./target/debug/grounded eval --domain "$domain" --instructions "$wordings" \
        --episodes "$episodes" --seed "$seed" --methods "$methods" --transport local \
        --out "$out/$domain.jsonl" > "$out/$domain.md"
    echo "# $domain ($((SECONDS - started)) s): $out/$domain.md" >&2
    sed -n '1,/^Per task/p' "$out/$domain.md" | head -n -1
done
