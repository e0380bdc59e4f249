//! Llama- and Qwen2-style exports (grouped-query attention) load and decode like GPT-2.
//! The fixtures are tiny random models built by tools/make_test_models.py.

use grounded::decoder::DecodeConfig;
use grounded::lm::{LanguageModel, Purpose};
use grounded::planner::{Method, Planner};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn shapes_come_from_the_graph_and_the_cache_is_exact() {
    for name in ["tiny-llama", "tiny-qwen2"] {
        let mut lm = LanguageModel::load(&fixture(name), 1).unwrap_or_else(|e| panic!("{name}: {e}"));
        let spec = lm.spec().clone();
        assert_eq!((spec.layers, spec.kv_heads, spec.head_dim), (2, 2, 8), "{name}: {spec:?}");
        assert!(spec.position_ids, "{name}");
        let tokens = lm.encode("Instruction: stack all the blocks.\n1. pick up the red block").unwrap();
        let (full, _) = lm.forward(lm.empty_cache(1).unwrap(), &tokens, Purpose::Prompt).unwrap();
        let (_, mut cache) = lm.forward(lm.empty_cache(1).unwrap(), &tokens[..5], Purpose::Prompt).unwrap();
        let mut worst = 0f32;
        for (i, &t) in tokens.iter().enumerate().skip(5) {
            // Two rows through the beam machinery: expand, step, keep one.
            let (l, c) = lm.forward(cache.gather(&[0, 0]).unwrap(), &[t, t], Purpose::Decode).unwrap();
            for row in 0..2 {
                let d = l.last(row).unwrap().iter().zip(full.at(0, i).unwrap()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
                worst = worst.max(d);
            }
            cache = c.gather(&[1]).unwrap();
        }
        assert!(worst < 1e-4, "{name}: max abs logit difference {worst}");
    }
}

#[test]
fn every_method_plans_with_them() {
    let scene = grounded::setup::load_scene(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/scenes/blocks-and-bowls.json")).unwrap();
    for name in ["tiny-llama", "tiny-qwen2"] {
        let lm = LanguageModel::load(&fixture(name), 1).unwrap();
        let mut planner = Planner::tabletop(lm, DecodeConfig { max_steps: 3, max_skill_tokens: 24, ..DecodeConfig::default() });
        for method in Method::ALL {
            let plan = planner.plan("put the blocks in the bowls with matching colours", &scene, method).unwrap_or_else(|e| panic!("{name} {method}: {e}"));
            assert!(plan.tokens.forward_passes > 0, "{name} {method}");
        }
    }
}

/// A config.json that gives zero heads (where the graph leaves the head count or size to it)
/// is refused with the key's name, not divided by.
#[test]
fn a_config_with_zero_heads_is_refused_with_its_key() {
    for key in ["num_attention_heads", "num_key_value_heads", "hidden_size"] {
        let dir = std::env::temp_dir().join(format!("grounded-zero-heads-{}-{key}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(fixture("tiny-qwen2")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
        config[key] = serde_json::json!(0);
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let err = LanguageModel::load(&dir, 1).err().unwrap_or_else(|| panic!("{key} = 0 was accepted")).to_string();
        assert!(err.contains(&format!("{key} = 0")), "{key}: {err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
