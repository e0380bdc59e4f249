#!/usr/bin/env bash
# Every figure in README.md and BENCHMARKS.md that depends on the planner model, made with one
# model into one folder: the measuring half of tools/train/README.md's "Shipping a new model".
# Run it with the candidate before copying it into models/planner-gpt2/, then write the
# figures into the documents from $OUT (each file names the command that made it).
#
#   bash tools/train/figures.sh MODEL OUT                  # MODEL: a folder with model.onnx,
#                                                          # config.json, tokenizer.json
#   BASELINE=DIR bash tools/train/figures.sh MODEL OUT     # also the latency benches with the
#                                                          # model shipped now, on this machine
#   ONLY="evals paraphrases" bash tools/train/figures.sh MODEL OUT   # some steps only
#
# Steps (names for ONLY): evals (README "Results": tabletop 20, grid 100, kitchen 20
# episodes, seed 0), paraphrases (bench/paraphrases, llm and gd-beam), explicit
# (bench/explicit, four methods), negation (bench/negation, four methods), departure (the --max-departure inf figures), ask
# (bench/ask, and DELTA=off), jump-forward (bench/jump-forward), latency (grounded bench
# --repeats 21, both settings of README's table), scale (bench/scale's shipped-model rows).
# A step whose output is complete ($OUT/STEP.done) is skipped, so an interrupted run goes on
# where it stopped; delete the .done file to make a step again. The latency figures are only
# comparable on one machine: BASELINE benches the model shipped now in the same run. About
# an hour on 2 free cores after the build (bench/ask twice is half of it); nothing else should
# run meanwhile (latency).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -ne 2 ]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
model="$(cd "$1" && pwd)" || { echo "figures: no model folder $1" >&2; exit 2; }
for f in model.onnx config.json tokenizer.json; do
    [ -f "$model/$f" ] || { echo "figures: $model has no $f (a model folder as train.py export writes it)" >&2; exit 2; }
done
mkdir -p "$2"
out="$(cd "$2" && pwd)"
baseline=""
if [ -n "${BASELINE:-}" ]; then
    baseline="$(cd "$BASELINE" && pwd)" || { echo "figures: no baseline folder $BASELINE" >&2; exit 2; }
fi
all_steps="evals paraphrases explicit negation departure ask jump-forward latency scale"
steps="${ONLY:-$all_steps}"
for name in $steps; do
    case " $all_steps " in *" $name "*) ;; *) echo "figures: no step '$name' in ONLY (steps: $all_steps)" >&2; exit 2 ;; esac
done
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
export GROUNDED_MODEL="$model"
bin=./target/debug/grounded

# step NAME: run the function of that name unless it is done or not asked for.
step() {
    local name="$1"
    case " $steps " in *" $name "*) ;; *) return 0 ;; esac
    if [ -f "$out/$name.done" ]; then echo "# $name: done before ($out/$name.done)" >&2; return 0; fi
    local started=$SECONDS
    echo "# $name ..." >&2
    "step_${name//-/_}"
    echo "$((SECONDS - started)) s, model $model, $(date -u +%FT%TZ)" > "$out/$name.done"
    echo "# $name: $((SECONDS - started)) s" >&2
}

step_evals() {
    $bin eval --episodes 20 --seed 0 --transport local --out "$out/eval-tabletop.jsonl" > "$out/eval-tabletop.md"
    $bin eval --domain grid --episodes 100 --seed 0 --transport local --out "$out/eval-grid.jsonl" > "$out/eval-grid.md"
    $bin eval --domain kitchen --episodes 20 --seed 0 --transport local --out "$out/eval-kitchen.jsonl" > "$out/eval-kitchen.md"
}
step_paraphrases() {
    OUT="$out/paraphrases" METHODS=llm,gd-beam bash bench/paraphrases/run.sh > "$out/paraphrases.md"
}
step_explicit() {
    OUT="$out/explicit" EPISODES=5 METHODS=llm,saycan,gd-greedy,gd-beam bash bench/explicit/run.sh > "$out/explicit.md"
}
step_negation() {
    OUT="$out/negation" METHODS=llm,saycan,gd-greedy,gd-beam bash bench/negation/run.sh > "$out/negation.md"
}
step_departure() {
    mkdir -p "$out/departure"
    local inf_config="$out/departure/max-departure-inf.toml"
    printf '[decoder]\nmax_departure = inf\n' > "$inf_config"
    $bin eval --episodes 20 --seed 0 --transport local --methods gd-greedy,gd-beam --max-departure inf \
        > "$out/departure/eval-tabletop.md"
    $bin eval --domain kitchen --episodes 20 --seed 0 --transport local --methods gd-beam --max-departure inf \
        > "$out/departure/eval-kitchen.md"
    for domain in tabletop grid kitchen; do
        $bin eval --domain "$domain" --instructions "bench/paraphrases/$domain.tsv" --episodes 20 --seed 0 \
            --methods gd-beam --transport local --max-departure inf --out "$out/departure/paraphrases-$domain.jsonl" \
            > "$out/departure/paraphrases-$domain.md"
    done
    GROUNDED_CONFIG="$inf_config" OUT="$out/departure/explicit" METHODS=gd-beam bash bench/explicit/run.sh \
        > "$out/departure/explicit.md"
}
step_ask() {
    OUT="$out/ask" bash bench/ask/run.sh > "$out/ask.md"
    DELTA=off OUT="$out/ask-marginal" bash bench/ask/run.sh > "$out/ask-marginal.md"
}
step_jump_forward() {
    OUT="$out/jump-forward" bash bench/jump-forward/run.sh > "$out/jump-forward.md"
}
step_latency() {
    # Alternating the two models, so that a drift of the machine falls on both alike.
    local settings=("" "--top-k 10 --beam-width 4") names=(default b4) i
    for i in 0 1; do
        # shellcheck disable=SC2086
        $bin bench --repeats 21 ${settings[$i]} > "$out/bench-${names[$i]}.md"
        if [ -n "$baseline" ]; then
            # shellcheck disable=SC2086
            GROUNDED_MODEL="$baseline" $bin bench --repeats 21 ${settings[$i]} > "$out/bench-${names[$i]}-baseline.md"
        fi
    done
}
step_scale() {
    mkdir -p "$out/scale"
    $bin bench --objects 5,10,20,40 --repeats 5 --out "$out/scale/objects.md" > /dev/null
    $bin bench --scene-only --methods gd-greedy,gd-beam --jump-forward false --repeats 11 --model "$model" --json \
        > "$out/scale/vocab-planner-gpt2.json"
}

for name in $all_steps; do step "$name"; done
echo "figures: $out" >&2
