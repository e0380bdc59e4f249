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

/// A loopback TCP port free now (for a zenoh endpoint or a server a test starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}
