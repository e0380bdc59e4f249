"""Train a planner model for a robot's own skills (docs/skills.md).

  python tools/train/skills.py --skills FILE.toml --examples FILE.txt --out DIR

reads the skill file and the user's example plans, writes a corpus of plans (the examples,
and generated ones: each example with its objects and values swapped for others of the same
slot, drawn at random as the shipped corpus draws objects, including made-up names of the
same kind so that the model learns to copy names from the instruction), trains a small
GPT-2 on it with the shipped model's tokenizer, and exports it to ONNX in the layout
`--model DIR` loads. CPU only in minutes for a few hundred examples; seeds are fixed.

The examples file holds plans in the plan format, separated by blank lines:

  Instruction: put the red parcel on the top shelf.
  1. pick up the red parcel.
  2. put the red parcel on the top shelf.
  3. done.

Every step must be one of the skill file's templates (or `done`); a bad file is refused
with the line number and the reason before anything is trained.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import shutil
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

REPO = HERE.parent.parent
SHIPPED = REPO / "models" / "planner-gpt2"
# Words that make up new names of a slot's kind (the last word of a name is its noun).
ADJECTIVES = ["red", "blue", "green", "yellow", "white", "black", "orange", "purple", "pink", "brown",
              "grey", "small", "large", "heavy", "light", "old", "new", "left", "right", "front",
              "back", "upper", "lower", "middle", "first", "second", "third", "north", "south"]


class Refused(Exception):
    """A bad input file, with where and why."""


def slot_pattern(template: str) -> tuple[re.Pattern, list[str]]:
    names = re.findall(r"\{([a-z0-9_]+)\}", template)
    regex = ""
    for piece in re.split(r"(\{[a-z0-9_]+\})", template):
        m = re.fullmatch(r"\{([a-z0-9_]+)\}", piece)
        regex += f"(?P<{m.group(1)}>[a-z0-9]+(?: [a-z0-9]+)*?)" if m else re.escape(piece)
    return re.compile(f"^{regex}$"), names


def read_skills(path: Path):
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise Refused(f"{path}: {e}")
    skills = []
    for i, s in enumerate(data.get("skill", [])):
        pattern, names = slot_pattern(s["template"])
        slots = s.get("slots", {})
        skills.append({"template": s["template"], "pattern": pattern, "names": names,
                       "pools": {n: ("values", tuple(slots[n]["values"])) if "values" in slots[n]
                                 else ("kinds", tuple(sorted(slots[n]["kinds"]))) for n in names}})
    if not skills:
        raise Refused(f"{path}: no [[skill]]; check it with `grounded plan --skills {path} ...`")
    return skills


def read_examples(path: Path, skills):
    """The example plans: (instruction, [(step text, {slot pool: filler})])."""
    text = path.read_text()
    plans, line_no = [], 1
    for block in text.split("\n\n"):
        lines = block.split("\n")
        start = line_no
        line_no += len(lines) + 1
        lines = [l.strip() for l in lines]
        while lines and not lines[0]:
            lines.pop(0)
            start += 1
        lines = [l for l in lines if l]
        if not lines:
            continue
        if not lines[0].startswith("Instruction: "):
            raise Refused(f"{path}:{start}: a plan starts with `Instruction: ...`, not {lines[0]!r}")
        instruction = lines[0][len("Instruction: "):].strip()
        steps = []
        for k, line in enumerate(lines[1:], start=1):
            m = re.fullmatch(rf"{k}\. (.+?)\.", line)
            if not m:
                raise Refused(f"{path}:{start + k}: step {k} should read `{k}. <skill>.`, not {line!r}")
            step = m.group(1)
            if step == "done":
                steps.append((step, {}))
                continue
            for s in skills:
                fm = s["pattern"].fullmatch(step)
                if fm:
                    steps.append((step, {(n, s["pools"][n]): fm.group(n) for n in s["names"]}))
                    break
            else:
                raise Refused(f"{path}:{start + k}: {step!r} is none of the skill file's templates")
        if not steps or steps[-1][0] != "done":
            raise Refused(f"{path}:{start}: the plan for {instruction!r} must end with `done`")
        plans.append((instruction, steps))
    if not plans:
        raise Refused(f"{path}: no example plan")
    return plans


def render(instruction: str, steps: list[str]) -> str:
    """The plan text, as the Rust prompt builder and tools/train/corpus.py write it."""
    import corpus
    return "\n".join([corpus.instruction_line(instruction)] + [f"{n}. {s}." for n, s in enumerate(steps, 1)]) + "\n"


def make_corpus(skills, examples, n_plans: int, rng: random.Random) -> list[str]:
    """The examples, then plans made from them with their fillers swapped."""
    pools: dict = {}
    for s in skills:
        for n in s["names"]:
            kind, words = s["pools"][n]
            if kind == "values":
                pools.setdefault(s["pools"][n], set()).update(words)
    for _, steps in examples:
        for _, fillers in steps:
            for (_, pool), word in fillers.items():
                pools.setdefault(pool, set()).add(word)
    # Made-up names of each object pool: an adjective and the pool's nouns.
    for pool, words in list(pools.items()):
        if pool[0] == "kinds":
            nouns = sorted({w.split()[-1] for w in words})
            words.update(f"{a} {noun}" for a in ADJECTIVES for noun in nouns)
    pools = {k: sorted(v) for k, v in pools.items()}
    out = [render(i, [s for s, _ in steps]) for i, steps in examples]
    while len(out) < n_plans:
        instruction, steps = rng.choice(examples)
        # Only what the instruction names is swapped: a filler the plan infers ("your battery
        # is low" -> the charging station) stays, so that no example is mislabelled.
        used = {}
        for _, fillers in steps:
            for (_, pool), word in fillers.items():
                if re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", instruction):
                    used.setdefault(word, pool)
        # An injective swap, longest names first so that no name is replaced inside another.
        taken, swap = set(), {}
        for word in sorted(used, key=len, reverse=True):
            choices = [w for w in pools[used[word]] if w not in taken and w not in used or w == word]
            new = rng.choice(choices) if choices else word
            taken.add(new)
            swap[word] = new

        def apply(text: str) -> str:
            marks = {}
            for k, word in enumerate(sorted(swap, key=len, reverse=True)):
                mark = f"\x00{k}\x00"
                text = re.sub(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", mark, text)
                marks[mark] = swap[word]
            for mark, new in marks.items():
                text = text.replace(mark, new)
            return text

        out.append(render(apply(instruction), [apply(s) for s, _ in steps]))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--skills", type=Path, required=True, help="the robot's skill file (TOML)")
    p.add_argument("--examples", type=Path, required=True, help="example plans in the plan format")
    p.add_argument("--out", type=Path, required=True, help="the model directory to write (--model loads it)")
    p.add_argument("--work", type=Path, default=None, help="scratch folder [default: OUT/../.work-OUTNAME]")
    p.add_argument("--plans", type=int, default=20000, help="plans in the corpus, examples included")
    p.add_argument("--steps", type=int, default=1200, help="optimiser steps")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--embd", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: one per core)")
    a = p.parse_args(argv)
    for f in (a.skills, a.examples):
        if not f.is_file():
            p.error(f"{f}: no such file")
    if a.plans < 1 or a.steps < 1 or a.batch < 1:
        p.error("--plans, --steps and --batch are whole numbers of at least 1")
    try:
        skills = read_skills(a.skills)
        examples = read_examples(a.examples, skills)
    except Refused as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    rng = random.Random(a.seed)
    plans = make_corpus(skills, examples, a.plans, rng)
    print(f"corpus: {len(examples)} examples, {len(plans)} plans", flush=True)

    import os
    import torch
    from tokenizers import Tokenizer
    from transformers import GPT2Config, GPT2LMHeadModel
    import train

    torch.manual_seed(a.seed)
    if a.threads or os.cpu_count():
        torch.set_num_threads(a.threads or os.cpu_count())
    work = a.work or a.out.parent / f".work-{a.out.name}"
    (work / "hf").mkdir(parents=True, exist_ok=True)
    shutil.copy(SHIPPED / "tokenizer.json", work / "hf" / "tokenizer.json")
    tok = Tokenizer.from_file(str(work / "hf" / "tokenizer.json"))
    eos_id, pad_id = tok.token_to_id(train.EOS), tok.token_to_id(train.PAD)
    rng.shuffle(plans)
    held_n = max(1, len(plans) // 50)
    held = train.encode_plans(tok, plans[:held_n], eos_id)
    seqs = train.encode_plans(tok, plans[held_n:] or plans, eos_id)
    context = 384
    longest = max(len(s) for s in seqs + held)
    if longest > context:
        print(f"error: a plan of {longest} tokens is longer than the context ({context})", file=sys.stderr)
        return 2
    cfg = GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=context, n_embd=a.embd, n_layer=a.layers,
                     n_head=a.heads, bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=pad_id,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 100) * max(0.05, 1 - s / a.steps))
    t0, step, epoch = time.time(), 0, 0
    width = 30
    while step < a.steps:
        order = train.batch_order(seqs, a.batch, random.Random(a.seed * 1000 + epoch))
        for ids, mask, labels in train.batches(seqs, a.batch, pad_id, None, False, order):
            loss = train.train_step(model, opt, sched, ids, mask, labels)
            step += 1
            if step % 25 == 0 or step == a.steps:
                done = step / a.steps
                bar = "#" * int(done * width) + "-" * (width - int(done * width))
                print(f"\r[{bar}] step {step}/{a.steps} loss {loss.item():.3f} {time.time() - t0:.0f}s",
                      end="", flush=True)
            if step >= a.steps:
                break
        epoch += 1
    print()
    heldout = train.evaluate(model, held, pad_id, "cpu")
    model.save_pretrained(work / "hf")
    report = {"skills": str(a.skills), "examples": len(examples), "plans": len(plans), "steps": step,
              "batch": a.batch, "layers": a.layers, "embd": a.embd, "heads": a.heads, "lr": a.lr,
              "seed": a.seed, "parameters": sum(q.numel() for q in model.parameters()),
              "heldout_loss_nats_per_token": round(heldout, 4), "train_seconds": round(time.time() - t0, 1),
              # What the model learned to read in an instruction (src/lm/alphabet.rs).
              # (Each plan's first line is its instruction.)
              "corpus": {"instruction_characters": "".join(sorted(
                  {c for p in plans[held_n:] or plans for c in p.split("\n", 1)[0].removeprefix("Instruction: ")}))}}
    (work / "hf" / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"held-out loss {heldout:.4f} nats/token; exporting to {a.out}", flush=True)
    train.stage_export(argparse.Namespace(work=str(work), out=str(a.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
