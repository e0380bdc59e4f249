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
#   SIGNS=quotes bash bench/paraphrases/run.sh             # each in quotes: "..."
#   SIGNS=typographic bash bench/paraphrases/run.sh        # each in typographic quotes, with
#                                                          # curly apostrophes, as word
#                                                          # processors and phones write them
#   SIGNS=emoji bash bench/paraphrases/run.sh              # each ending in a smiley
#   SIGNS=unspaced bash bench/paraphrases/run.sh           # no space after a comma, semicolon,
#                                                          # colon, ! or ? ("A,E and I")
#   SIGNS=space-before bash bench/paraphrases/run.sh       # a space before each of them and
#                                                          # each full stop ("blocks , please")
#   SIGNS=markdown bash bench/paraphrases/run.sh           # as a chat's message: "@robot **...**"
#   SIGNS=aside bash bench/paraphrases/run.sh              # with an aside: "... (please)"
#   (CASE and SIGNS go together.)
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
case "${SIGNS:-}" in
    "" | quotes | typographic | emoji | unspaced | space-before | markdown | aside) ;;
    *) echo "SIGNS=${SIGNS}: say quotes, typographic, emoji, unspaced, space-before, markdown or aside (or leave SIGNS unset)" >&2; exit 2 ;;
esac
mkdir -p "$out"
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
for domain in tabletop grid kitchen; do
    started=$SECONDS
    wordings="bench/paraphrases/$domain.tsv"
    if [ -n "${CASE:-}${SIGNS:-}" ]; then
        # Each instruction (its slots' names too, which eval then fills so) in capitals,
        # with every word capitalised, in headline style (every word capitalised but for
        # articles, conjunctions and short prepositions after the first), or in small
        # letters; then in quotes, typographic quotes (and apostrophes), with a smiley, or
        # with no space after a comma, semicolon, colon, ! or ? that a word follows, or
        # with a space before each of them and each full stop, as a chat message in
        # markdown to a mention, or with an aside in parentheses.
        python3 -c 'import re, sys
small = set("a an the and but or nor so yet as at by for from in into of off on onto per to up via with".split())
def capitalise(word):
    return re.sub(r"(?<![\w\x27])([a-z])", lambda m: m.group(1).upper(), word)
def cased(text, how):
    if how == "capitals":
        return text.upper()
    if how == "small":
        return text.lower()
    if how == "capitalised":
        return capitalise(text)
    if how == "headline":
        words = text.split(" ")
        return " ".join(w if i > 0 and w.strip(",.?!;:").lower() in small else capitalise(w) for i, w in enumerate(words))
    return text
def signed(text, how):
    if how == "quotes":
        return "\"" + text + "\""
    if how == "typographic":
        return "\u201c" + text.replace("\x27", "\u2019") + "\u201d"
    if how == "emoji":
        return text + " \U0001F642"
    if how == "unspaced":
        return re.sub(r"([,;:!?]) +(?=[A-Za-z{])", r"\1", text)
    if how == "space-before":
        return re.sub(r"([,;:!?.])", r" \1", text)
    if how == "markdown":
        return "@robot **" + text + "**"
    if how == "aside":
        return text + " (please)"
    return text
for line in open(sys.argv[1], encoding="utf-8"):
    task, tab, text = line.partition("\t")
    if line.startswith("#") or not tab:
        print(line, end="")
    else:
        print(task + tab + signed(cased(text, sys.argv[2]).rstrip("\n"), sys.argv[3]))' "$wordings" "${CASE:-}" "${SIGNS:-}" > "$out/${CASE:-as-written}${SIGNS:+-$SIGNS}-$domain.tsv"
        wordings="$out/${CASE:-as-written}${SIGNS:+-$SIGNS}-$domain.tsv"
    fi
    ./target/debug/grounded eval --domain "$domain" --instructions "$wordings" \
        --episodes "$episodes" --seed "$seed" --methods "$methods" --transport local \
        --out "$out/$domain.jsonl" > "$out/$domain.md"
    echo "# $domain ($((SECONDS - started)) s): $out/$domain.md" >&2
    sed -n '1,/^Per task/p' "$out/$domain.md" | head -n -1
done
