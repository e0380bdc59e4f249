//! The ONNX grounded-model contract, exercised with the scorer tools/make_test_scorer.py builds.

use grounding::{GroundedModel, OnnxScorer, SkillPrefix};
use protocol::{Domain, ObjectKind, Observation, SceneObject};
use std::path::Path;

fn fixture() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/z-scorer"))
}

fn scene(n: usize) -> Observation {
    let objects = (0..n).map(|i| SceneObject::new(format!("o{i}"), format!("block {i}"), ObjectKind::Block, [0.1 * i as f64, 0.0, 0.0])).collect();
    Observation::new(Domain::TABLETOP, objects)
}

#[test]
fn scores_follow_the_graph_and_the_state() {
    let scorer = OnnxScorer::load(fixture()).expect("load the test scorer");
    assert_eq!(scorer.name(), "z-scorer");
    let mut bound = scorer.bind(&scene(2)).unwrap();
    let long = "z".repeat(100);
    let scores = bound.score(&[SkillPrefix::partial("zz top"), SkillPrefix::partial("abc"), SkillPrefix::complete("z"), SkillPrefix::partial(&long)]).unwrap();
    let v: Vec<f32> = scores.iter().map(|s| s.value()).collect();
    // -(z count) - 0.5 * objects; long texts keep their last 64 bytes.
    assert_eq!(v, vec![-3.0, -1.0, -2.0, -65.0]);
    let mut empty_scene = scorer.bind(&scene(0)).unwrap();
    let v: Vec<f32> = empty_scene.score(&[SkillPrefix::partial("abc")]).unwrap().iter().map(|s| s.value()).collect();
    assert_eq!(v, vec![0.0]);
}

#[test]
fn bad_scorer_directories_say_what_is_wrong() {
    let missing = OnnxScorer::load(Path::new("/nonexistent/scorer")).err().unwrap().to_string();
    assert!(missing.contains("scorer.json"), "{missing}");
    let dir = std::env::temp_dir().join(format!("grounded-bad-scorer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("scorer.json"), r#"{"name":"x","state_features":8,"max_text_bytes":64}"#).unwrap();
    std::fs::write(dir.join("scorer.onnx"), b"this is not an onnx file").unwrap();
    let corrupt = OnnxScorer::load(&dir).err().unwrap().to_string();
    assert!(corrupt.contains("scorer.onnx"), "{corrupt}");
    std::fs::write(dir.join("scorer.json"), r#"{"name":"x","state_features":8}"#).unwrap();
    let spec = OnnxScorer::load(&dir).err().unwrap().to_string();
    assert!(spec.contains("max_text_bytes"), "{spec}");
    std::fs::remove_dir_all(&dir).unwrap();
}
