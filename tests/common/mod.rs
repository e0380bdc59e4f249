//! Helpers the command-line tests share: run the `grounded` program as a user would.
// Each test crate uses some of them.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The repository root (where README.md's commands run).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run `grounded` with `args` from the repository root.
pub fn grounded(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grounded")).args(args).current_dir(repo()).output().expect("run grounded")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
