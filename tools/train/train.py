"""Train the default planner language model that ships under models/planner-gpt2/.

Stages (each reproducible from fixed seeds; `all` runs them in order):

  corpus     write the scene-agnostic plan corpus (tools/train/corpus.py) to WORK/corpus-*.txt
  tokenizer  train a byte-level BPE tokenizer on the training corpus -> WORK/hf/tokenizer.json
  model      train a GPT-2 language model on it, report held-out loss -> WORK/hf (HF format)
  export     export WORK/hf to ONNX with past key values (optimum-onnx) and copy the files
             that ship into OUT (model.onnx, config.json, tokenizer.json, training.json)

Usage (see tools/train/README.md for the environment):

  python tools/train/train.py all --work tools/work --out models/planner-gpt2

`model` uses a GPU when torch sees one and runs on CPU otherwise (about 20-30 minutes on
2 cores); results differ in the last digits between devices, never in behaviour.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

EOS = "<|endoftext|>"
PAD = "<|pad|>"


def stage_corpus(a):
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    train = corpus.generate(a.train_plans, seed=a.seed)
    held = corpus.generate(a.heldout_plans, seed=a.seed + 1)
    (work / "corpus-train.txt").write_text("\n".join(train))
    (work / "corpus-heldout.txt").write_text("\n".join(held))
    print(f"corpus: {len(train)} training plans, {len(held)} held-out plans -> {work}")


def read_plans(path: Path):
    return [p.strip("\n") + "\n" for p in path.read_text().split("\n\n") if p.strip()]


def stage_tokenizer(a):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    work = Path(a.work)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=a.vocab_size, min_frequency=2, special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train([str(work / "corpus-train.txt")], trainer)
    (work / "hf").mkdir(parents=True, exist_ok=True)
    tok.save(str(work / "hf" / "tokenizer.json"))
    print(f"tokenizer: {tok.get_vocab_size()} tokens")


def encode_plans(tok, plans, eos_id):
    return [tok.encode(p).ids + [eos_id] for p in plans]


def batches(seqs, batch_size, pad_id, rng, shuffle):
    import torch
    order = list(range(len(seqs)))
    if shuffle:
        rng.shuffle(order)
    for i in range(0, len(order), batch_size):
        chunk = [seqs[j] for j in order[i:i + batch_size]]
        width = max(len(s) for s in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, s in enumerate(chunk):
            ids[r, :len(s)] = torch.tensor(s)
            mask[r, :len(s)] = 1
        labels = ids.masked_fill(mask == 0, -100)
        yield ids, mask, labels


def evaluate(model, seqs, pad_id, device, batch_size=64):
    import torch
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for ids, mask, labels in batches(seqs, batch_size, pad_id, None, False):
            ids, mask, labels = ids.to(device), mask.to(device), labels.to(device)
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
            target = labels[:, 1:]
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.size(-1)), target.reshape(-1),
                ignore_index=-100, reduction="sum")
            total += loss.item()
            count += (target != -100).sum().item()
    model.train()
    return total / max(count, 1)


def stage_model(a):
    import torch
    from tokenizers import Tokenizer
    from transformers import GPT2Config, GPT2LMHeadModel

    random.seed(a.seed)
    torch.manual_seed(a.seed)
    work = Path(a.work)
    tok = Tokenizer.from_file(str(work / "hf" / "tokenizer.json"))
    eos_id, pad_id = tok.token_to_id(EOS), tok.token_to_id(PAD)
    train = encode_plans(tok, read_plans(work / "corpus-train.txt"), eos_id)
    held = encode_plans(tok, read_plans(work / "corpus-heldout.txt"), eos_id)
    longest = max(len(s) for s in train + held)
    cfg = GPT2Config(
        vocab_size=tok.get_vocab_size(), n_positions=a.context, n_embd=a.embd,
        n_layer=a.layers, n_head=a.heads, bos_token_id=eos_id, eos_token_id=eos_id,
        pad_token_id=pad_id, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    assert longest <= a.context, f"a plan of {longest} tokens exceeds the context {a.context}"
    model = GPT2LMHeadModel(cfg)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    model.to(device)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params / 1e6:.2f}M parameters, {len(train)} plans, device {device}")
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    steps_total = a.epochs * math.ceil(len(train) / a.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 200) * max(0.05, 1 - s / steps_total))
    rng = random.Random(a.seed)
    step, t0 = 0, time.time()
    for epoch in range(a.epochs):
        for ids, mask, labels in batches(train, a.batch, pad_id, rng, True):
            ids, mask, labels = ids.to(device), mask.to(device), labels.to(device)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            if step % 200 == 0:
                print(f"  epoch {epoch} step {step}/{steps_total} loss {loss.item():.4f} "
                      f"({time.time() - t0:.0f}s)", flush=True)
        print(f"epoch {epoch}: held-out loss {evaluate(model, held, pad_id, device):.4f} nats/token")
    heldout = evaluate(model, held, pad_id, device)
    model.to("cpu").save_pretrained(work / "hf")
    report = {
        "parameters": params, "train_plans": len(train), "heldout_plans": len(held),
        "heldout_loss_nats_per_token": round(heldout, 4),
        "heldout_perplexity": round(math.exp(heldout), 4), "epochs": a.epochs,
        "batch": a.batch, "lr": a.lr, "seed": a.seed, "device": device,
        "train_seconds": round(time.time() - t0, 1), "vocab_size": tok.get_vocab_size(),
        "layers": a.layers, "heads": a.heads, "embd": a.embd, "context": a.context,
    }
    (work / "hf" / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def stage_export(a):
    import numpy as np
    import onnxruntime as ort
    from optimum.exporters.onnx import main_export

    work, out = Path(a.work), Path(a.out)
    onnx_dir = work / "onnx"
    main_export(str(work / "hf"), output=str(onnx_dir), task="text-generation-with-past",
                opset=18, device="cpu")
    out.mkdir(parents=True, exist_ok=True)
    for name in ["model.onnx", "config.json", "tokenizer.json"]:
        shutil.copy(onnx_dir / name if (onnx_dir / name).exists() else work / "hf" / name,
                    out / name)
    shutil.copy(work / "hf" / "training.json", out / "training.json")
    # sanity check: the exported graph loads and accepts an empty past
    sess = ort.InferenceSession(str(out / "model.onnx"))
    names = [i.name for i in sess.get_inputs()]
    print("export: inputs", names)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    print(f"export: {out} holds {size / 1e6:.1f} MB")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=["corpus", "tokenizer", "model", "export", "all"])
    p.add_argument("--work", default="tools/work")
    p.add_argument("--out", default="models/planner-gpt2")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--train-plans", type=int, default=60000)
    p.add_argument("--heldout-plans", type=int, default=2000)
    p.add_argument("--vocab-size", type=int, default=2048)
    p.add_argument("--context", type=int, default=384)
    p.add_argument("--embd", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    a = p.parse_args()
    stages = ["corpus", "tokenizer", "model", "export"] if a.stage == "all" else [a.stage]
    for s in stages:
        globals()[f"stage_{s}"](a)


if __name__ == "__main__":
    main()
