#!/usr/bin/env bash
# The shipped planner model from nothing: its three training stages in order, each going on
# from the one before (train.py --init-from), into WORK/stage1, WORK/stage2 and WORK/stage3;
# the last one's model folder is OUT. Run it again after an interruption (a session ending,
# Ctrl-C, a reboot): a finished stage is skipped, a stage with a checkpoint goes on from it
# (train.py model --resume, then export), so nothing trained is lost.
#
#   bash tools/train/recipe.sh                         # WORK tools/work/recipe, OUT WORK/stage3/out
#   bash tools/train/recipe.sh WORK OUT
#   PRECISION=fp32 bash tools/train/recipe.sh          # every stage in fp32: another model, see
#                                                      # "precision" in tools/train/README.md
#   DRY_RUN=1 bash tools/train/recipe.sh               # print what it would run, run nothing
#   ORDERS=walk-0.7 bash tools/train/recipe.sh WORK    # every stage's letter orders drawn as
#                                                      # walks (corpus.py --orders): another
#                                                      # model, see tools/train/README.md
#
# The stages (tools/train/README.md says why each):
#   1. corpus version 2, 640,000 plans, seed 1234, lr 1e-3: 10,000 steps from random weights;
#   2. corpus version 3 (explicit requests), 160,000 plans, seed 1234, lr 4e-4: 2,500 steps;
#   3. corpus version 7 (the Letters tasks and the grid said in more ways, requests for
#      nothing, mismatched bowls each block on its own), 76,800 plans, seed 1237, lr 3e-4:
#      1,200 steps.
# Each stage in the precision that made the shipped one (bf16, bf16, fp32) unless PRECISION
# says one for all. Measured: 130 + 36 minutes (bf16, on an AMD EPYC with AVX-512 BF16,
# 0.78-0.85 s a step) + 13.5 (fp32, on an Intel Xeon, 0.68 s a step: version 4's third stage;
# version 7's, the same steps, took 23.6 on the AMD EPYC) = 179-190 minutes of training on 2
# free cores; minutes on a GPU. Where bf16 is slow (that Intel Xeon: 1.35 s a step),
# PRECISION=fp32 takes about 152 minutes (111 + 27 + 13.5, each measured there). PYTHON names
# a Python with tools/train/requirements.txt (default /tmp/train-venv/bin/python, as
# tools/train/README.md sets it up); corpus.py reads Debian's WordNet (wordnet-base).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${1:-tools/work/recipe}"
out="${2:-$work/stage3/out}"
python="${PYTHON:-/tmp/train-venv/bin/python}"
precision="${PRECISION:-}"
orders="${ORDERS:-uniform}"
if [ $# -gt 2 ]; then
    echo "usage: bash tools/train/recipe.sh [WORK] [OUT]  (see the header of $0)" >&2
    exit 2
fi
if [ -z "${DRY_RUN:-}" ] && ! "$python" -c "import torch, transformers, tokenizers" 2>/dev/null; then
    echo "recipe: $python cannot import torch, transformers and tokenizers: set PYTHON to a Python with tools/train/requirements.txt installed (tools/train/README.md, Commands)" >&2
    exit 2
fi

run() {
    echo "+ $*" >&2
    [ -n "${DRY_RUN:-}" ] || "$@"
}

# stage N PRECISION OUT ARGS...: train stage N into $work/stageN unless it is done, going on
# from its checkpoint if it has one, in PRECISION unless $PRECISION says another; its model
# folder is OUT.
stage() {
    local n="$1" made_in="$2" model="$3"; shift 3
    local dir="$work/stage$n"
    local args=(--work "$dir" --out "$model" --precision "${precision:-$made_in}" --corpus-orders "$orders" "$@")
    if [ -f "$model/training.json" ] && [ -f "$dir/hf/training.json" ] && cmp -s "$model/training.json" "$dir/hf/training.json"; then
        echo "recipe: stage $n done before ($model)" >&2
        return 0
    fi
    [ -n "${DRY_RUN:-}" ] || mkdir -p "$dir"
    if [ -f "$dir/checkpoint.pt" ] && [ -f "$dir/hf/tokenizer.json" ] && [ -f "$dir/corpus.json" ]; then
        echo "recipe: stage $n goes on from its checkpoint ($dir/checkpoint.pt)" >&2
        run "$python" tools/train/train.py model --resume "${args[@]}"
        run "$python" tools/train/train.py export "${args[@]}"
    else
        echo "recipe: stage $n" >&2
        run "$python" tools/train/train.py all "${args[@]}"
    fi
}

stage 1 bf16 "$work/stage1/out"
stage 2 bf16 "$work/stage2/out" --init-from "$work/stage1" --corpus-version 3 --train-plans 160000 --lr 4e-4
stage 3 fp32 "$out" --init-from "$work/stage2" --corpus-version 7 --train-plans 76800 --lr 3e-4 --seed 1237
echo "recipe: the model is in $out (training.json: total_train_seconds over the three stages)" >&2
