//! A model directory's fingerprint: what says that two runs planned with the same model,
//! whatever its path. A calibration records it, so that a model retrained in place (same
//! folder, new weights) is told apart from the one the calibration measured.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// The files whose bytes make a model: its graph and weights, its tokenizer, its config
/// (what a model directory must hold, [`super::Lm::load_on`]).
pub const MODEL_FILES: [&str; 3] = ["model.onnx", "tokenizer.json", "config.json"];

/// SHA-256, in hex, over each of [`MODEL_FILES`] in turn: its name, its length and its bytes.
/// An error names the file that could not be read.
pub fn fingerprint(dir: &Path) -> std::io::Result<String> {
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    for name in MODEL_FILES {
        let path = dir.join(name);
        let with_path = |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        let mut file = std::fs::File::open(&path).map_err(with_path)?;
        let length = file.metadata().map_err(with_path)?.len();
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(length.to_le_bytes());
        loop {
            let n = file.read(&mut buffer).map_err(with_path)?;
            if n == 0 {
                break;
            }
            hash.update(&buffer[..n]);
        }
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_in(dir: &Path, weights: &[u8]) {
        std::fs::create_dir_all(dir).expect("a scratch folder");
        std::fs::write(dir.join("model.onnx"), weights).expect("writes");
        std::fs::write(dir.join("tokenizer.json"), b"{}").expect("writes");
        std::fs::write(dir.join("config.json"), b"{\"n_layer\": 2}").expect("writes");
    }

    #[test]
    fn the_same_files_anywhere_have_the_same_fingerprint_and_new_weights_another() {
        let root = std::env::temp_dir().join(format!("grounded-fingerprint-{}", std::process::id()));
        model_in(&root.join("a"), b"weights one");
        model_in(&root.join("b"), b"weights one");
        let a = fingerprint(&root.join("a")).expect("readable");
        assert_eq!(a.len(), 64);
        assert_eq!(a, fingerprint(&root.join("b")).expect("readable"));
        // retrained in place: same folder, same sizes, other bytes
        model_in(&root.join("a"), b"weights two");
        assert_ne!(a, fingerprint(&root.join("a")).expect("readable"));
        std::fs::remove_file(root.join("a/tokenizer.json")).expect("removes");
        let err = fingerprint(&root.join("a")).expect_err("a file is missing").to_string();
        assert!(err.contains("tokenizer.json"), "{err}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
