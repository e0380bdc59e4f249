//! Finding and starting ONNX Runtime, which `ort` loads at run time (`load-dynamic`).
//!
//! Lookup order: `ORT_DYLIB_PATH` (the library file itself), the executable's folder, the
//! project's cache folder `.cache/onnxruntime/` (filled by `tools/setup-onnxruntime.sh`),
//! then an installed `onnxruntime` Python package. Version 1.31 or newer is required.

use ort::session::{builder::GraphOptimizationLevel, Session};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The oldest ONNX Runtime this build's `ort` accepts.
pub const MIN_VERSION: (u32, u32) = (1, 31);

/// The command that installs ONNX Runtime for this project.
pub const INSTALL_HINT: &str = "bash tools/setup-onnxruntime.sh";

#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    #[error("ONNX Runtime {}.{} or newer was not found.\n  looked in:\n{}\n  install it with `{INSTALL_HINT}` (run in the grounded repository; it fetches the onnxruntime wheel with pip),\n  or set ORT_DYLIB_PATH to the library file, e.g. /path/to/libonnxruntime.so.1.32.0", MIN_VERSION.0, MIN_VERSION.1, .looked.join("\n"))]
    NotFound { looked: Vec<String> },
    #[error("ONNX Runtime at {path} could not be started: {message}")]
    Load { path: PathBuf, message: String },
    #[error("could not load the ONNX model {path}: {message}")]
    Session { path: PathBuf, message: String },
}

/// Where the ONNX Runtime in use was found.
#[derive(Debug, Clone)]
pub struct RuntimeInfo {
    pub path: PathBuf,
    pub found_by: &'static str,
}

static RUNTIME: OnceLock<Result<(RuntimeInfo, ort::environment::Environment), RuntimeError>> = OnceLock::new();

/// Find and start ONNX Runtime once per process; later calls return the same result.
pub fn ensure() -> Result<&'static RuntimeInfo, RuntimeError> {
    environment().map(|(info, _)| info)
}

fn environment() -> Result<&'static (RuntimeInfo, ort::environment::Environment), RuntimeError> {
    RUNTIME
        .get_or_init(|| {
            let info = locate()?;
            let env = ort::init_from(&info.path)
                .map_err(|e| RuntimeError::Load { path: info.path.clone(), message: e.to_string() })?
                .with_name("grounded")
                .build()
                .map_err(|e| RuntimeError::Load { path: info.path.clone(), message: e.to_string() })?;
            Ok((info, env))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Open an ONNX model file as a session with `threads` intra-op threads.
pub fn open_session(path: &Path, threads: usize) -> Result<Session, RuntimeError> {
    let (_, env) = environment()?;
    // `ort`'s builder errors are neither Send nor Sync: turn them into text right here.
    fn build(env: &ort::environment::Environment, path: &Path, threads: usize) -> ort::Result<Session> {
        Session::builder(env)?
            .with_optimization_level(GraphOptimizationLevel::Level3)?
            .with_intra_threads(threads.max(1))?
            .with_inter_threads(1)?
            .commit_from_file(path)
    }
    build(env, path, threads).map_err(|e| RuntimeError::Session { path: path.to_path_buf(), message: e.to_string() })
}

/// The project's own cache folder for ONNX Runtime.
pub fn project_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".cache").join("onnxruntime")
}

fn locate() -> Result<RuntimeInfo, RuntimeError> {
    let mut looked = Vec::new();
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) => {
            let path = PathBuf::from(p);
            if path.is_file() {
                return Ok(RuntimeInfo { path, found_by: "ORT_DYLIB_PATH" });
            }
            // An explicit choice that does not work is an error, not a reason to look elsewhere.
            looked.push(format!("    ORT_DYLIB_PATH={} (not a file: it must name the library file itself)", path.display()));
            return Err(RuntimeError::NotFound { looked });
        }
        None => looked.push("    ORT_DYLIB_PATH (not set)".into()),
    }
    let mut dirs: Vec<(PathBuf, &'static str)> = Vec::new();
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        dirs.push((dir, "the executable's folder"));
    }
    dirs.push((project_cache_dir(), "the project cache"));
    dirs.push((PathBuf::from(".cache/onnxruntime"), "the project cache (current folder)"));
    if let Some(dir) = python_package_dir() {
        dirs.push((dir, "the onnxruntime Python package"));
    } else {
        looked.push("    python3's onnxruntime package (not installed)".into());
    }
    for (dir, what) in dirs {
        match best_library_in(&dir) {
            Some(path) => return Ok(RuntimeInfo { path, found_by: what }),
            None => looked.push(format!("    {} ({what}): no libonnxruntime.so.{}.{} or newer", dir.display(), MIN_VERSION.0, MIN_VERSION.1)),
        }
    }
    Err(RuntimeError::NotFound { looked })
}

fn python_package_dir() -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim()).join("capi");
    dir.is_dir().then_some(dir)
}

/// The newest `libonnxruntime.so.X.Y.Z` in `dir` that is at least [`MIN_VERSION`].
fn best_library_in(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            let version = parse_version(&name)?;
            (version >= (MIN_VERSION.0, MIN_VERSION.1, 0) && p.is_file()).then_some((version, p))
        })
        .max_by_key(|(v, _)| *v)
        .map(|(_, p)| p)
}

/// `libonnxruntime.so.1.32.0` -> (1, 32, 0).
fn parse_version(file_name: &str) -> Option<(u32, u32, u32)> {
    let rest = file_name.strip_prefix("libonnxruntime.so.")?;
    let mut parts = rest.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next()??;
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_file_names() {
        assert_eq!(parse_version("libonnxruntime.so.1.32.0"), Some((1, 32, 0)));
        assert_eq!(parse_version("libonnxruntime.so.1.31"), Some((1, 31, 0)));
        assert_eq!(parse_version("libonnxruntime.so"), None);
        assert_eq!(parse_version("libonnxruntime_providers_shared.so"), None);
    }

    #[test]
    fn picks_the_newest_acceptable_library() {
        let dir = std::env::temp_dir().join(format!("grounded-rt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for v in ["1.30.0", "1.31.1", "1.32.0"] {
            std::fs::write(dir.join(format!("libonnxruntime.so.{v}")), b"").unwrap();
        }
        assert_eq!(best_library_in(&dir).unwrap().file_name().unwrap(), "libonnxruntime.so.1.32.0");
        std::fs::remove_file(dir.join("libonnxruntime.so.1.32.0")).unwrap();
        std::fs::remove_file(dir.join("libonnxruntime.so.1.31.1")).unwrap();
        assert_eq!(best_library_in(&dir), None, "1.30 is too old for ort rc.15");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
