"""Train the default planner language model that ships under models/planner-gpt2/.

Stages (each reproducible from fixed seeds; `all` runs them in order):

  corpus     write the scene-agnostic plan corpus (tools/train/corpus.py) to WORK/corpus-*.txt
  tokenizer  train a byte-level BPE tokenizer on the training corpus -> WORK/hf/tokenizer.json
  model      train a GPT-2 language model on it, report held-out loss -> WORK/hf (HF format)
  export     export WORK/hf to ONNX with past key values (optimum-onnx) and copy the files
             that ship into OUT (model.onnx, config.json, tokenizer.json, training.json)

Usage (see tools/train/README.md for the environment):

  bash tools/train/recipe.sh WORK OUT      # the shipped model: the three stages below, resumable
  python tools/train/train.py all --work tools/work/stage1 --out tools/work/stage1/out
  python tools/train/train.py all --work tools/work/stage2 --init-from tools/work/stage1 \
      --corpus-version 3 --train-plans 160000 --lr 4e-4 --out tools/work/stage2/out
  python tools/train/train.py all --work tools/work/stage3 --init-from tools/work/stage2 \
      --corpus-version 7 --train-plans 76800 --lr 3e-4 --seed 1237 --precision fp32 \
      --out models/planner-gpt2

The shipped model is made in three stages. The defaults are the first's settings (corpus
version 2, 640,000 plans, a 4,096-token vocabulary, 4 layers of width 256, 1 epoch = 10,000
steps, bfloat16 matrix products); the second goes on from its weights on corpus version 3
(explicit requests) for 2,500 steps, the third on version 7 (the Letters tasks and the grid
said in more ways, requests for nothing, mismatched bowls each block on its own) for 1,200. `model` uses a GPU when torch sees one
and runs on CPU otherwise (179-190 minutes in all on 2 free cores; which precision is faster depends
on the CPU: tools/train/README.md); results differ in the last digits between devices and
precisions, never in behaviour.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

EOS = "<|endoftext|>"
PAD = "<|pad|>"


def stage_corpus(a):
    corpus.main(["--write", a.work, "--plans", str(a.train_plans), "--heldout-plans",
                 str(a.heldout_plans), "--seed", str(a.seed), "--version", str(a.corpus_version),
                 "--orders", a.corpus_orders])
    print(f"corpus: {a.train_plans} training plans, {a.heldout_plans} held-out plans -> {a.work}")


def read_plans(path: Path):
    return [p.strip("\n") + "\n" for p in path.read_text().split("\n\n") if p.strip()]


def stage_tokenizer(a):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    work = Path(a.work)
    if a.init_from:
        # Going on from another run's model: its tokenizer, as it is.
        (work / "hf").mkdir(parents=True, exist_ok=True)
        shutil.copy(trained_files(a.init_from).tokenizer, work / "hf" / "tokenizer.json")
        print(f"tokenizer: {a.init_from}'s, unchanged")
        return
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


class NoTrainedModel(Exception):
    pass


class TrainedFiles:
    """A trained model to go on from: a run's --work folder (WORK/hf, Hugging Face format) or
    a shipped model folder (model.onnx with config.json, tokenizer.json and training.json
    beside it, as `export` writes it), whose weights are read back from the ONNX graph."""

    def __init__(self, folder: Path, onnx: bool):
        self.folder, self.onnx = folder, onnx
        self.tokenizer = folder / "tokenizer.json"
        self.training = folder / "training.json"

    def load_model(self):
        from transformers import GPT2LMHeadModel

        if not self.onnx:
            return GPT2LMHeadModel.from_pretrained(self.folder)
        return model_from_onnx(self.folder)


def trained_files(path) -> TrainedFiles:
    """Where the model `path` names keeps its files; NoTrainedModel says what is missing."""
    root = Path(path)
    shipped = ("model.onnx", "config.json", "tokenizer.json", "training.json")
    advice = (f"give the --work folder of a run whose model stage has finished, or a shipped model folder "
              f"({', '.join(shipped)})")
    if not root.is_dir():
        raise NoTrainedModel(f"no such folder; {advice}")
    if (root / "model.onnx").exists():
        folder, onnx, needed = root, True, shipped
    else:
        folder, onnx, needed = root / "hf", False, ("tokenizer.json", "config.json", "model.safetensors", "training.json")
    missing = [n for n in needed if not (folder / n).exists()]
    if missing:
        raise NoTrainedModel(f"no trained model there ({folder} lacks {', '.join(missing)}); {advice}")
    return TrainedFiles(folder, onnx)


def complete_corpus_records(run: dict, source) -> None:
    """Gives every run in the chain `run` (a training.json, then its `init_from`, ...) whose
    corpus record lacks `instruction_characters` (runs made before it was recorded) the
    characters its corpus's instructions hold, from the corpus made again and checked
    against the recorded sha256. grounded reads an instruction's ASCII signs outside them as
    it reads an emoji (src/lm/alphabet.rs), and a chain with one run that records none lets
    every sign through; a run that cannot be made again is said, not left silent."""
    while run is not None:
        record = run.get("corpus")
        if record is None:
            print(f"warning: a run {source} went on from records no corpus, so the new model's record "
                  f"will not say which characters its instructions held: grounded will read every ASCII "
                  f"sign in an instruction as it is", file=sys.stderr)
        elif "instruction_characters" not in record:
            version, plans, seed = record.get("version", 1), record["train_plans"], record["seed"]
            orders = record.get("orders", corpus.DEFAULT_ORDERS)
            print(f"corpus version {version} ({plans} plans, seed {seed}), which a run {source} went on "
                  f"from was trained on, records no instruction characters: making it again to read them",
                  flush=True)
            made, sha = corpus.training_corpus(plans, seed, version, orders=orders)
            if sha != record.get("corpus_sha256"):
                print(f"warning: corpus version {version} ({plans} plans, seed {seed}) made again is not the "
                      f"one recorded (sha256 {sha}, recorded {record.get('corpus_sha256')}): the generator "
                      f"has changed since, so its instruction characters stay unknown and grounded will read "
                      f"every ASCII sign in an instruction as it is", file=sys.stderr)
            else:
                record["instruction_characters"] = corpus.instruction_characters(made.plans)
        run = run.get("init_from")


def model_from_onnx(folder: Path):
    """The GPT-2 model an ONNX export holds, as a trainable torch model: every weight is an
    initializer under its Hugging Face name, except the output projection, which the export
    stores transposed under a generated name and which GPT-2 ties to the token embedding
    (checked, not assumed)."""
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config.from_pretrained(folder)
    model = GPT2LMHeadModel(config)
    graph = onnx.load(str(folder / "model.onnx")).graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    state = model.state_dict()
    wanted = [k for k in state if k != "lm_head.weight" and not k.endswith(".attn.bias")
              and not k.endswith(".attn.masked_bias")]
    missing = [k for k in wanted if k not in weights]
    if missing:
        sys.exit(f"{folder / 'model.onnx'} lacks the weights {', '.join(missing[:5])}"
                 f"{' and more' if len(missing) > 5 else ''}: not a GPT-2 export of train.py")
    for k in wanted:
        if tuple(weights[k].shape) != tuple(state[k].shape):
            sys.exit(f"{folder / 'model.onnx'}: {k} is {list(weights[k].shape)}, config.json says "
                     f"{list(state[k].shape)}")
        state[k] = torch.from_numpy(np.array(weights[k], dtype=np.float32))
    model.load_state_dict(state)
    wte = weights["transformer.wte.weight"]
    heads = [w for n, w in weights.items() if n not in state and w.shape == wte.T.shape]
    if not any(np.array_equal(w, wte.T) for w in heads):
        sys.exit(f"{folder / 'model.onnx'}: no output projection equal to the token embedding; "
                 f"train.py's models tie them, this one does not")
    # The read-back model must be the exported one: the same logits on a probe sequence.
    import onnxruntime as ort
    session = ort.InferenceSession(str(folder / "model.onnx"))
    probe = np.arange(2, 2 + 12, dtype=np.int64)[None] % config.vocab_size
    feeds = {}
    for i in session.get_inputs():
        if i.name == "input_ids":
            feeds[i.name] = probe
        elif i.name == "attention_mask":
            feeds[i.name] = np.ones_like(probe)
        elif i.name == "position_ids":
            feeds[i.name] = np.arange(probe.shape[1], dtype=np.int64)[None]
        else:  # past key values: none yet
            feeds[i.name] = np.zeros((1, config.n_head, 0, config.n_embd // config.n_head), dtype=np.float32)
    exported = session.run(["logits"], feeds)[0]
    model.eval()
    with torch.no_grad():
        read_back = model(torch.from_numpy(probe)).logits.numpy()
    gap = float(np.abs(exported - read_back).max())
    if gap > 1e-3:
        sys.exit(f"{folder / 'model.onnx'}: the weights read back give logits {gap:.2g} away from the "
                 f"exported graph's; not a GPT-2 export of train.py")
    print(f"init: weights read back from {folder / 'model.onnx'} (logits within {gap:.1g} of the graph's)")
    model.train()
    return model


class Plan(list):
    """A plan's token ids; `prompt` of them are its instruction line, which the loss skips:
    the model learns to write plans for instructions, not to write instructions."""
    prompt = 0


def encode_plans(tok, plans, eos_id):
    out = []
    for p in plans:
        enc = tok.encode(p)
        seq = Plan(enc.ids + [eos_id])
        cut = p.index("\n") + 1  # the instruction line, with its newline
        seq.prompt = sum(1 for (start, _end) in enc.offsets if start < cut)
        out.append(seq)
    return out


def batch_order(seqs, batch_size, rng):
    """Batches of plan indices for one epoch: shuffled, then sorted by length within groups of
    50 batches so that a batch pads little, then the batches shuffled."""
    order = list(range(len(seqs)))
    rng.shuffle(order)
    group = 50 * batch_size
    out = []
    for g in range(0, len(order), group):
        chunk = sorted(order[g:g + group], key=lambda i: len(seqs[i]))
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def batches(seqs, batch_size, pad_id, rng, shuffle, order=None):
    import torch
    if order is None:
        idx = list(range(len(seqs)))
        order = [idx[i:i + batch_size] for i in range(0, len(idx), batch_size)]
    for batch in order:
        chunk = [seqs[j] for j in batch]
        width = max(len(s) for s in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, s in enumerate(chunk):
            ids[r, :len(s)] = torch.tensor(s)
            mask[r, :len(s)] = 1
        labels = ids.masked_fill(mask == 0, -100)
        for r, s in enumerate(chunk):
            labels[r, :getattr(s, "prompt", 0)] = -100
        yield ids, mask, labels


def autocast(device, precision):
    """The context that runs a forward pass at `precision`: "fp32" as it is, "bf16" with
    matrix products in bfloat16 (weights, gradients and the optimiser stay in float32)."""
    import torch
    return torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=precision == "bf16")


def train_step(model, opt, sched, ids, mask, labels, precision="fp32"):
    """One optimiser step on a batch; its loss."""
    import torch
    with autocast(ids.device.type, precision):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)
    return loss


def evaluate(model, seqs, pad_id, device, batch_size=64):
    """Held-out loss in nats per plan token, in float32 whatever the training's precision (the
    exported model runs in float32, and losses of models trained either way compare)."""
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
    before = None
    if a.init_from:
        # Start from another run's trained model (its size, not --layers/--embd/--heads), on
        # this run's corpus, with a fresh optimiser and schedule.
        init = trained_files(a.init_from)
        model = init.load_model()
        if model.config.vocab_size != tok.get_vocab_size():
            sys.exit(f"{a.init_from} has a vocabulary of {model.config.vocab_size}, the tokenizer {tok.get_vocab_size()}: "
                     f"run the tokenizer stage with the same --init-from")
        before = json.loads(init.training.read_text())
        complete_corpus_records(before, a.init_from)
        a.layers, a.embd, a.heads = model.config.n_layer, model.config.n_embd, model.config.n_head
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(a.threads or os.cpu_count() or 1)
    model.to(device)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params / 1e6:.2f}M parameters, {len(train)} plans, device {device}")
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    per_epoch = math.ceil(len(train) / a.batch)
    steps_total = a.epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 200) * max(0.05, 1 - s / steps_total))
    # Checkpoints: every `--checkpoint-minutes` and at every epoch's end, so that a long CPU
    # run can stop and go on (`--resume`) with the same result as one run.
    ckpt = work / "checkpoint.pt"
    step, spent = 0, 0.0
    if a.resume and ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        trained_at = state.get("precision", "fp32")  # checkpoints from before the option: fp32
        if trained_at != a.precision:
            sys.exit(f"{ckpt} was trained with --precision {trained_at}, not {a.precision}: "
                     f"resume with the same settings, or start again without --resume")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        torch.set_rng_state(state["torch_rng"])
        step, spent = state["step"], state["seconds"]
        print(f"resumed at step {step}/{steps_total} ({spent:.0f}s spent before)")
    elif ckpt.exists():
        ckpt.unlink()

    def save():
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "torch_rng": torch.get_rng_state(), "step": step, "precision": a.precision,
                    "seconds": spent + time.time() - t0}, tmp)
        tmp.replace(ckpt)

    # Ctrl-C or a TERM signal (a session ending, a job killed) while training stops at the end
    # of the step under way, with a checkpoint, so that `--resume` loses nothing.
    stop = []

    def on_signal(signum, _frame):
        if stop:  # a second signal: stop now, from the last checkpoint
            raise KeyboardInterrupt
        stop.append(signal.Signals(signum))
        print(f"{stop[0].name}: stopping after this step, with a checkpoint", flush=True)

    def stop_with_checkpoint():
        save()
        print(f"stopped at step {step} of {steps_total} ({stop[0].name}); checkpoint {ckpt}: "
              f"go on with the same command and --resume", flush=True)
        sys.exit(128 + stop[0])

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    t0 = time.time()
    last_save = t0
    last = min(a.max_steps, steps_total) if a.max_steps else steps_total
    if step >= last:
        print(f"the checkpoint is at step {step}, the run ends at {last}: nothing to train")
    for epoch in range(step // per_epoch, a.epochs):
        if step >= last:
            break
        order = batch_order(train, a.batch, random.Random(a.seed * 1000 + epoch))
        skip = step - epoch * per_epoch
        for ids, mask, labels in batches(train, a.batch, pad_id, None, False, order[skip:]):
            ids, mask, labels = ids.to(device), mask.to(device), labels.to(device)
            loss = train_step(model, opt, sched, ids, mask, labels, a.precision)
            step += 1
            if step % 200 == 0:
                print(f"  epoch {epoch} step {step}/{steps_total} loss {loss.item():.4f} "
                      f"({spent + time.time() - t0:.0f}s)", flush=True)
            if stop:
                stop_with_checkpoint()
            if time.time() - last_save > 60 * a.checkpoint_minutes:
                save()
                last_save = time.time()
            if step >= last:
                break
        save()
        if step < steps_total and step >= last:
            print(f"stopped at step {step} of {steps_total} (--max-steps)", flush=True)
            break
        print(f"epoch {epoch}: held-out loss {evaluate(model, held, pad_id, device):.4f} nats/token", flush=True)
    # Training is over: a signal from here on interrupts as usual (one that came during the
    # last epoch's evaluation still stops, with the checkpoint).
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    if stop:
        stop_with_checkpoint()
    heldout = evaluate(model, held, pad_id, device)
    model.to("cpu").save_pretrained(work / "hf")
    report = {
        "parameters": params, "train_plans": len(train), "heldout_plans": len(held),
        "heldout_loss_nats_per_token": round(heldout, 4),
        "heldout_perplexity": round(math.exp(heldout), 4), "epochs": a.epochs,
        "steps": step, "schedule_steps": steps_total,
        "batch": a.batch, "lr": a.lr, "seed": a.seed, "device": device, "precision": a.precision,
        "train_seconds": round(spent + time.time() - t0, 1), "vocab_size": tok.get_vocab_size(),
        "layers": a.layers, "heads": a.heads, "embd": a.embd, "context": a.context,
        "threads": torch.get_num_threads(),
    }
    info = work / "corpus.json"
    if info.exists():
        report["corpus"] = json.loads(info.read_text())
    if before is not None:
        # The run this one went on from, whole, so that every corpus the model saw can be
        # made again (tests/paraphrases.rs checks each); seconds add up over the runs.
        report["init_from"] = before
        report["total_train_seconds"] = round(before.get("total_train_seconds", before["train_seconds"])
                                              + report["train_seconds"], 1)
    (work / "hf" / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def stage_export(a):
    import numpy as np
    import onnxruntime as ort
    from optimum.exporters.onnx import main_export

    work, out = Path(a.work), Path(a.out)
    onnx_dir = work / "onnx"
    main_export(str(work / "hf"), output=str(onnx_dir), task="text-generation-with-past",
                opset=18, device="cpu", library_name="transformers")
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


def count(text):
    """A whole number of at least 0, for --threads and --max-steps."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 0")
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=["corpus", "tokenizer", "model", "export", "all"])
    p.add_argument("--work", default="tools/work")
    p.add_argument("--out", default="models/planner-gpt2")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--corpus-version", type=int, choices=corpus.VERSIONS, default=corpus.DEFAULT_VERSION,
                   help=f"corpus version (default {corpus.DEFAULT_VERSION}, the shipped model's first stage; 3 for its second, 7 for its third; see corpus.VERSIONS)")
    p.add_argument("--corpus-orders", type=corpus.orders_arg, default=corpus.DEFAULT_ORDERS, metavar="uniform|walk-D",
                   help=f"how the corpus draws the letters of a plan that orders them (default {corpus.DEFAULT_ORDERS}, "
                        f"every model shipped so far; walk-0.7: half of them walks through the alphabet whose steps "
                        f"shrink by 0.7 a letter; see corpus.walk_decay and tools/train/README.md)")
    p.add_argument("--train-plans", type=int, default=640000)
    p.add_argument("--heldout-plans", type=int, default=2000)
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--context", type=int, default=384)
    p.add_argument("--embd", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="bf16",
                   help="arithmetic of training's forward passes: bf16 (the shipped model's first two stages: "
                        "matrix products in bfloat16 under autocast; weights and the exported model stay float32) "
                        "or fp32 (its third). Which is faster depends on the CPU: bf16 1.5x faster per step on an "
                        "AMD EPYC with AVX-512 BF16, 2x slower on an Intel Xeon with it; tools/train/README.md "
                        "says how to measure. A model trained in the other is another model")
    p.add_argument("--resume", action="store_true", help="go on from WORK/checkpoint.pt (model stage)")
    p.add_argument("--init-from", metavar="MODEL", default="",
                   help="start from a trained model (its tokenizer and weights; a fresh optimiser and schedule): "
                        "the --work folder of a finished run, or a shipped model folder such as "
                        "models/planner-gpt2 (weights read back from its model.onnx): another stage on "
                        "another corpus (tools/train/README.md)")
    p.add_argument("--checkpoint-minutes", type=float, default=10)
    p.add_argument("--threads", type=count, default=0,
                   help="CPU threads for training (0: one per core); results differ only in floating-point order")
    p.add_argument("--max-steps", type=count, default=0,
                   help="stop after this many optimiser steps of the schedule (0: train every epoch); "
                        "the learning-rate schedule stays the full run's, so `--resume` without it goes on "
                        "to the same result as one run")
    a = p.parse_args()
    if a.init_from:
        try:
            trained_files(a.init_from)
        except NoTrainedModel as e:
            p.error(f"--init-from {a.init_from}: {e}")
    stages = ["corpus", "tokenizer", "model", "export"] if a.stage == "all" else [a.stage]
    for s in stages:
        globals()[f"stage_{s}"](a)


if __name__ == "__main__":
    main()
