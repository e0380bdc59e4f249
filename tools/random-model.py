#!/usr/bin/env python3
"""A random-weight language model of a realistic shape, for benchmarks only (never shipped).

Builds a Llama-, Qwen2- or GPT-2-shaped causal LM with random weights (seeded), a
vocabulary of the size asked for and a long context, and exports it to the standard ONNX
layout `grounded` reads (model.onnx with past key values, tokenizer.json, config.json), so
that `grounded bench` can measure the decoder and the prefix cache where a real deployment
sits: 32k-152k vocabularies, 20-150M parameters, contexts of thousands of tokens.

The tokenizer is the shipped model's (so instructions and skills tokenize as usual) with
filler tokens appended up to the vocabulary size: they are ordinary, decodable tokens that
no text encodes to, so the decoder ranks the whole vocabulary at every step, as it would
with a real tokenizer of that size. The plans such a model writes are noise; grounded
decoding keeps them admissible, and their cost is what the benchmarks read.

    python tools/random-model.py --shape qwen2 --vocab 151936 --layers 8 --hidden 512 --out target/models/qwen2-152k
    python tools/random-model.py --shape llama --vocab 50000 --layers 4 --hidden 384 --out target/models/llama-50k

Needs torch, transformers and optimum-onnx (tools/train/requirements.txt).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_TOKENIZER = ROOT / "models" / "planner-gpt2" / "tokenizer.json"


def widened_tokenizer(vocab: int) -> dict:
    """The shipped tokenizer with filler tokens appended up to `vocab` ids."""
    tok = json.loads(SHIPPED_TOKENIZER.read_text())
    table = tok["model"]["vocab"]
    used = set(table.values()) | {a["id"] for a in tok["added_tokens"]}
    next_id = max(used) + 1
    if vocab < next_id:
        sys.exit(f"--vocab {vocab} is smaller than the shipped tokenizer's {next_id} tokens")
    # Byte-level BPE spells a leading space as "Ġ"; fillers look like rare words.
    for i in range(next_id, vocab):
        table[f"\u0120zq{i:06d}"] = i
    return tok


def config_for(a):
    common = dict(vocab_size=a.vocab, num_hidden_layers=a.layers, hidden_size=a.hidden,
                  num_attention_heads=a.heads, max_position_embeddings=a.context,
                  bos_token_id=0, eos_token_id=0, pad_token_id=1, use_cache=True)
    if a.shape == "llama":
        from transformers import LlamaConfig
        return LlamaConfig(intermediate_size=a.hidden * 8 // 3 // 64 * 64 or 64,
                           num_key_value_heads=a.kv_heads or a.heads, tie_word_embeddings=False, **common)
    if a.shape == "qwen2":
        from transformers import Qwen2Config
        return Qwen2Config(intermediate_size=a.hidden * 8 // 3 // 64 * 64 or 64,
                           num_key_value_heads=a.kv_heads or max(1, a.heads // 4),
                           tie_word_embeddings=True, **common)
    from transformers import GPT2Config
    return GPT2Config(vocab_size=a.vocab, n_layer=a.layers, n_embd=a.hidden, n_head=a.heads,
                      n_positions=a.context, bos_token_id=0, eos_token_id=0, pad_token_id=1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", choices=["llama", "qwen2", "gpt2"], default="llama")
    p.add_argument("--vocab", type=int, default=50000, help="vocabulary size (at least the shipped 4096)")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=384)
    p.add_argument("--heads", type=int, default=6)
    p.add_argument("--kv-heads", type=int, default=0, help="key/value heads (0: the shape's usual)")
    p.add_argument("--context", type=int, default=2048, help="positions the model takes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    if a.hidden % a.heads:
        sys.exit(f"--hidden {a.hidden} is not a multiple of --heads {a.heads}")

    import torch
    from optimum.exporters.onnx import main_export
    from transformers import AutoModelForCausalLM

    torch.manual_seed(a.seed)
    cfg = config_for(a)
    model = AutoModelForCausalLM.from_config(cfg)
    params = sum(t.numel() for t in model.parameters())
    with tempfile.TemporaryDirectory() as tmp:
        hf = Path(tmp) / "hf"
        model.save_pretrained(hf)
        (hf / "tokenizer.json").write_text(json.dumps(widened_tokenizer(a.vocab)))
        main_export(str(hf), output=str(Path(tmp) / "onnx"), task="text-generation-with-past",
                    opset=18, device="cpu", library_name="transformers")
        a.out.mkdir(parents=True, exist_ok=True)
        for name in ["model.onnx", "model.onnx_data", "config.json"]:
            src = Path(tmp) / "onnx" / name
            if src.exists():
                shutil.copy(src, a.out / name)
        shutil.copy(hf / "tokenizer.json", a.out / "tokenizer.json")
    (a.out / "README.md").write_text(
        f"Random weights (seed {a.seed}), for benchmarks only: {a.shape}, {params / 1e6:.1f}M parameters, "
        f"{a.layers} layers x {a.hidden}, vocabulary {a.vocab}, context {a.context}.\n"
        f"Made by: python tools/random-model.py {' '.join(sys.argv[1:])}\n")
    print(f"{a.out}: {a.shape}, {params / 1e6:.1f}M parameters, vocabulary {a.vocab}, context {a.context}")


if __name__ == "__main__":
    main()
