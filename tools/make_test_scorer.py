"""Build the small ONNX scorer that tests the ONNX grounded-model contract.

    python tools/make_test_scorer.py grounding/tests/fixtures/z-scorer

Its rule, easy to check from Rust: log_prob = -(number of 'z' bytes in the text)
- 0.5 * (number of observed objects). Needs only the `onnx` package.
See grounding/src/onnx_scorer.rs for the contract.
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FEATURES = 8
MAX_BYTES = 64


def build(out: Path):
    table = np.zeros(257, dtype=np.float32)
    table[ord("z") + 1] = 1.0  # inputs are bytes + 1
    nodes = [
        helper.make_node("Gather", ["table", "text_bytes"], ["per_byte"], axis=0),
        helper.make_node("Mul", ["per_byte", "text_mask"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["z_count"], keepdims=0),
        helper.make_node("ReduceSum", ["state", "axis1"], ["objects"], keepdims=0),
        helper.make_node("Mul", ["objects", "half"], ["object_term"]),
        helper.make_node("Add", ["z_count", "object_term"], ["penalty"]),
        helper.make_node("Neg", ["penalty"], ["log_prob"]),
    ]
    graph = helper.make_graph(
        nodes, "z_scorer",
        [helper.make_tensor_value_info("text_bytes", TensorProto.INT64, ["B", MAX_BYTES]),
         helper.make_tensor_value_info("text_mask", TensorProto.FLOAT, ["B", MAX_BYTES]),
         helper.make_tensor_value_info("state", TensorProto.FLOAT, ["B", FEATURES])],
        [helper.make_tensor_value_info("log_prob", TensorProto.FLOAT, ["B"])],
        [numpy_helper.from_array(table, "table"),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
         numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out / "scorer.onnx")
    (out / "scorer.json").write_text(json.dumps(
        {"name": "z-scorer", "state_features": FEATURES, "max_text_bytes": MAX_BYTES}, indent=2) + "\n")
    print(f"wrote {out}/scorer.onnx and scorer.json")


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "grounding/tests/fixtures/z-scorer"))
