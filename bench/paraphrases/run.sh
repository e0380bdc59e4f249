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
#   CASE=headline bash bench/paraphrases/run.sh            # headline style: every word
#                                                          # capitalised but short joining words
#   CASE=small bash bench/paraphrases/run.sh               # everything in small letters, as
#                                                          # people type in a chat ("i'd", "d")
set -euo pipefail
cd "$(dirname "$0")/../.."
episodes="${EPISODES:-20}"
seed="${SEED:-0}"
methods="${METHODS:-llm,gd-beam}"
out="${OUT:-target/paraphrases}"
case "${CASE:-}" in
    "" | capitals | capitalised | headline | small) ;;
    *) echo "CASE=${CASE}: say capitals, capitalised, headline or small (or leave CASE unset)" >&2; exit 2 ;;
esac
mkdir -p "$out"
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
for domain in tabletop grid kitchen; do
    started=$SECONDS
    wordings="bench/paraphrases/$domain.tsv"
    if [ -n "${CASE:-}" ]; then
        # Each instruction (its slots' names too, which eval then fills so) in capitals,
        # with every word capitalised, in headline style (every word capitalised but for
        # articles, conjunctions and short prepositions after the first), or in small letters.
        python3 -c 'import re, sys
small = set("a an the and but or nor so yet as at by for from in into of off on onto per to up via with".split())
def capitalise(word):
    return re.sub(r"(?<![\w\x27])([a-z])", lambda m: m.group(1).upper(), word)
for line in open(sys.argv[1]):
    task, tab, text = line.partition("\t")
    if line.startswith("#") or not tab:
        print(line, end="")
    elif sys.argv[2] == "capitals":
        print(task + tab + text.upper(), end="")
    elif sys.argv[2] == "small":
        print(task + tab + text.lower(), end="")
    elif sys.argv[2] == "capitalised":
        print(task + tab + capitalise(text), end="")
    else:
        words = text.split(" ")
        said = [w if i > 0 and w.strip(",.?!;:").lower() in small else capitalise(w) for i, w in enumerate(words)]
        print(task + tab + " ".join(said), end="")' "$wordings" "$CASE" > "$out/$CASE-$domain.tsv"
        wordings="$out/$CASE-$domain.tsv"
    fi
    ./target/debug/grounded eval --domain "$domain" --instructions "$wordings" \
        --episodes "$episodes" --seed "$seed" --methods "$methods" --transport local \
        --out "$out/$domain.jsonl" > "$out/$domain.md"
    echo "# $domain ($((SECONDS - started)) s): $out/$domain.md" >&2
    sed -n '1,/^Per task/p' "$out/$domain.md" | head -n -1
done
