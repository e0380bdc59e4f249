"""Build tiny random Llama- and Qwen2-style causal LMs in the standard ONNX export layout.

    python tools/make_test_models.py tests/fixtures

They test that `grounded` loads any such export (grouped-query attention: 4 attention
heads sharing 2 key/value heads), reading its shapes from the graph and config.json. Their
weights are random (seed 0): what they say is noise, how they run is what is tested. They
use the shipped model's tokenizer. Needs torch, transformers, optimum-onnx
(tools/train/requirements.txt).
"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

import torch
from optimum.exporters.onnx import main_export
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

ROOT = Path(__file__).resolve().parent.parent
TOKENIZER = ROOT / "models" / "planner-gpt2" / "tokenizer.json"
# The shipped tokenizer's size (the tokenizer travels with each fixture).
VOCAB = len(json.loads(TOKENIZER.read_text())["model"]["vocab"])
COMMON = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
              bos_token_id=0, eos_token_id=0, pad_token_id=1, tie_word_embeddings=False)


def build(name, config, model_class, out_root: Path):
    torch.manual_seed(0)
    model = model_class(config).eval()
    with tempfile.TemporaryDirectory() as tmp:
        hf = Path(tmp) / "hf"
        model.save_pretrained(hf)
        shutil.copy(TOKENIZER, hf / "tokenizer.json")
        onnx_dir = Path(tmp) / "onnx"
        main_export(str(hf), output=str(onnx_dir), task="text-generation-with-past", opset=18, device="cpu")
        out = out_root / name
        out.mkdir(parents=True, exist_ok=True)
        for f in ["model.onnx", "config.json"]:
            shutil.copy(onnx_dir / f, out / f)
        shutil.copy(TOKENIZER, out / "tokenizer.json")
    print(f"wrote {out}")


if __name__ == "__main__":
    out_root = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    build("tiny-llama", LlamaConfig(**COMMON), LlamaForCausalLM, out_root)
    build("tiny-qwen2", Qwen2Config(**COMMON), Qwen2ForCausalLM, out_root)
