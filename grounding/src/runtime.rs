//! Finding and starting ONNX Runtime, which `ort` loads at run time (`load-dynamic`).
//!
//! Lookup order: `ORT_DYLIB_PATH` (the library file itself), the executable's folder, the
//! project's cache folder `.cache/onnxruntime/` (filled by `tools/setup-onnxruntime.sh`),
//! then an installed `onnxruntime` Python package. Version 1.31 or newer is required.
//!
//! The runtime is started once per process. A process that runs a model on a GPU
//! ([`Device::Cuda`]) must ask for it before anything else starts the runtime
//! ([`start_for`]): then the CUDA build is looked for instead (`.cache/onnxruntime-gpu/`, from
//! `tools/setup-onnxruntime.sh --gpu`, or a Python `onnxruntime-gpu`), and the CUDA libraries
//! beside it are loaded first. The CUDA build runs CPU sessions too.

use crate::device::Device;
use ort::session::{builder::GraphOptimizationLevel, Session};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The oldest ONNX Runtime this build's `ort` accepts.
pub const MIN_VERSION: (u32, u32) = (1, 31);

/// The command that installs ONNX Runtime for this project.
pub const INSTALL_HINT: &str = "bash tools/setup-onnxruntime.sh";

/// The command that installs ONNX Runtime's CUDA build and the CUDA libraries it needs.
pub const GPU_INSTALL_HINT: &str = "bash tools/setup-onnxruntime.sh --gpu";

/// ONNX Runtime's CUDA execution provider library, which sits beside a CUDA build.
const CUDA_PROVIDER: &str = "libonnxruntime_providers_cuda.so";

#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    #[error("ONNX Runtime {}.{} or newer was not found.\n  looked in:\n{}\n  install it with `{INSTALL_HINT}` (run in the grounded repository; it fetches the onnxruntime wheel with pip),\n  or set ORT_DYLIB_PATH to the library file, e.g. /path/to/libonnxruntime.so.1.32.0", MIN_VERSION.0, MIN_VERSION.1, .looked.join("\n"))]
    NotFound { looked: Vec<String> },
    #[error("ONNX Runtime at {path} could not be started: {message}")]
    Load { path: PathBuf, message: String },
    #[error("could not load the ONNX model {path}: {message}")]
    Session { path: PathBuf, message: String },
    #[error("--device {device} needs ONNX Runtime's CUDA build, which was not found.\n  looked in:\n{}\n  install it with `{GPU_INSTALL_HINT}` (run in the grounded repository; it fetches onnxruntime-gpu and the CUDA 13 wheels with pip),\n  or set ORT_DYLIB_PATH to a CUDA build's libonnxruntime.so.X.Y.Z; or run on the CPU with --device cpu", .looked.join("\n"))]
    NoCudaBuild { device: Device, looked: Vec<String> },
    #[error("--device {device}: ONNX Runtime was already started without CUDA in this process (at {path}, found by {found_by}); choose the device before anything loads a model")]
    StartedWithoutCuda { device: Device, path: PathBuf, found_by: &'static str },
    #[error("--device {device}: the CUDA libraries in {dir} could not be loaded: {message}\n  reinstall them with `{GPU_INSTALL_HINT}`")]
    CudaLibraries { device: Device, dir: PathBuf, message: String },
    #[error("--device {device}: ONNX Runtime could not start its CUDA provider for {path}: {message}\n  check that the GPU is visible (nvidia-smi) and that its driver supports CUDA 13; or run on the CPU with --device cpu")]
    CudaProvider { device: Device, path: PathBuf, message: String },
}

/// Where the ONNX Runtime in use was found.
#[derive(Debug, Clone)]
pub struct RuntimeInfo {
    pub path: PathBuf,
    pub found_by: &'static str,
    /// The CUDA build: its CUDA provider library is beside it.
    pub cuda: bool,
    /// Folders whose CUDA libraries were loaded before the runtime (empty: the system's).
    pub cuda_libraries: Vec<PathBuf>,
}

static RUNTIME: OnceLock<Result<(RuntimeInfo, ort::environment::Environment), RuntimeError>> = OnceLock::new();

/// Find and start ONNX Runtime once per process; later calls return the same result.
pub fn ensure() -> Result<&'static RuntimeInfo, RuntimeError> {
    environment(Device::Cpu).map(|(info, _)| info)
}

/// Start ONNX Runtime for `device`: for a GPU, its CUDA build with the CUDA libraries loaded
/// first. An error if the runtime was started already without CUDA.
pub fn start_for(device: Device) -> Result<&'static RuntimeInfo, RuntimeError> {
    let (info, _) = environment(device)?;
    if device.is_cuda() && !info.cuda {
        return Err(RuntimeError::StartedWithoutCuda { device, path: info.path.clone(), found_by: info.found_by });
    }
    Ok(info)
}

fn environment(device: Device) -> Result<&'static (RuntimeInfo, ort::environment::Environment), RuntimeError> {
    RUNTIME
        .get_or_init(|| {
            let info = if device.is_cuda() { locate_cuda_build(device)? } else { locate()? };
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

/// Open an ONNX model file as a CPU session with `threads` intra-op threads.
pub fn open_session(path: &Path, threads: usize) -> Result<Session, RuntimeError> {
    open_session_on(path, threads, Device::Cpu)
}

/// Open an ONNX model file as a session on `device`: on a GPU, every node ONNX Runtime's
/// CUDA provider can run goes there (an error, not a silent CPU session, if it cannot start).
pub fn open_session_on(path: &Path, threads: usize, device: Device) -> Result<Session, RuntimeError> {
    let info = start_for(device)?;
    let (_, env) = environment(device)?;
    // `ort`'s builder errors are neither Send nor Sync: turn them into text right here.
    let builder = || -> ort::Result<_> {
        Ok(Session::builder(env)?.with_optimization_level(GraphOptimizationLevel::Level3)?.with_intra_threads(threads.max(1))?.with_inter_threads(1)?)
    };
    let session_error = |e: ort::Error| RuntimeError::Session { path: path.to_path_buf(), message: e.to_string() };
    let mut builder = builder().map_err(session_error)?;
    if let Device::Cuda { ordinal } = device {
        let cuda = ort::ep::CUDA::default().with_device_id(ordinal as i32).build().error_on_failure();
        builder =
            builder.with_execution_providers([cuda]).map_err(|e| RuntimeError::CudaProvider { device, path: info.path.clone(), message: e.to_string() })?;
    }
    builder.commit_from_file(path).map_err(session_error)
}

/// The project's own cache folder for ONNX Runtime.
pub fn project_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".cache").join("onnxruntime")
}

/// Which ONNX Runtime a process looks for: any build, or a CUDA build (one with the CUDA
/// provider library beside it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    Any,
    Cuda,
}

fn has_cuda_provider(library: &Path) -> bool {
    library.parent().is_some_and(|d| d.join(CUDA_PROVIDER).is_file())
}

/// The library to load and who found it, or every place looked in and why it did not do.
/// ORT_DYLIB_PATH first (an explicit choice that does not work is an error, not a reason to
/// look elsewhere), then the executable's folder, the project's cache and Python's package.
fn search(build: Build) -> Result<(PathBuf, &'static str), Vec<String>> {
    let usable = |library: &Path| build == Build::Any || has_cuda_provider(library);
    let cpu_build = format!("a CPU build, no {CUDA_PROVIDER} beside it");
    let mut looked = Vec::new();
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) => {
            let path = PathBuf::from(p);
            if path.is_file() && usable(&path) {
                return Ok((path, "ORT_DYLIB_PATH"));
            }
            let why = if path.is_file() { cpu_build } else { "not a file: it must name the library file itself".into() };
            looked.push(format!("    ORT_DYLIB_PATH={} ({why})", path.display()));
            return Err(looked);
        }
        None => looked.push("    ORT_DYLIB_PATH (not set)".into()),
    }
    let mut dirs: Vec<(PathBuf, &'static str)> = Vec::new();
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        dirs.push((dir, "the executable's folder"));
    }
    match build {
        Build::Any => {
            dirs.push((project_cache_dir(), "the project cache"));
            dirs.push((PathBuf::from(".cache/onnxruntime"), "the project cache (current folder)"));
        }
        Build::Cuda => {
            dirs.push((project_gpu_cache_dir(), "the project's GPU cache"));
            dirs.push((PathBuf::from(".cache/onnxruntime-gpu"), "the project's GPU cache (current folder)"));
        }
    }
    match python_package_dir() {
        Some(dir) => dirs.push((dir, "the onnxruntime Python package")),
        None => looked.push("    python3's onnxruntime package (not installed)".into()),
    }
    for (dir, what) in dirs {
        match best_library_in(&dir) {
            Some(path) if usable(&path) => return Ok((path, what)),
            Some(path) => looked.push(format!("    {} ({what}): {cpu_build}", path.display())),
            None => looked.push(format!("    {} ({what}): no libonnxruntime.so.{}.{} or newer", dir.display(), MIN_VERSION.0, MIN_VERSION.1)),
        }
    }
    Err(looked)
}

fn locate() -> Result<RuntimeInfo, RuntimeError> {
    let (path, found_by) = search(Build::Any).map_err(|looked| RuntimeError::NotFound { looked })?;
    let cuda = has_cuda_provider(&path);
    Ok(RuntimeInfo { path, found_by, cuda, cuda_libraries: Vec::new() })
}

/// The first line `python3 -c code` prints, as a path (`None` without python3, or if the code
/// fails, e.g. a package that is not installed).
fn python_prints_path(code: &str) -> Option<PathBuf> {
    let out = std::process::Command::new("python3").args(["-c", code]).stderr(std::process::Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(PathBuf::from(String::from_utf8(out.stdout).ok()?.trim()))
}

fn python_package_dir() -> Option<PathBuf> {
    let dir = python_prints_path("import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))")?.join("capi");
    dir.is_dir().then_some(dir)
}

/// The project's own cache folder for ONNX Runtime's CUDA build (`--gpu`).
pub fn project_gpu_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".cache").join("onnxruntime-gpu")
}

/// Find ONNX Runtime's CUDA build (a library with the CUDA provider beside it), then load
/// the CUDA libraries it needs from beside it or from Python's NVIDIA wheels.
fn locate_cuda_build(device: Device) -> Result<RuntimeInfo, RuntimeError> {
    let (path, found_by) = search(Build::Cuda).map_err(|looked| RuntimeError::NoCudaBuild { device, looked })?;
    with_cuda_libraries(device, path, found_by)
}

fn with_cuda_libraries(device: Device, path: PathBuf, found_by: &'static str) -> Result<RuntimeInfo, RuntimeError> {
    let beside = path.parent().map(|d| d.join("cuda")).filter(|d| d.join("libcudart.so.13").is_file());
    let (cuda, cudnn) = match beside {
        Some(dir) => (dir.clone(), dir),
        None => match python_nvidia_dirs() {
            Some(dirs) => dirs,
            // Neither: the system's own CUDA (LD_LIBRARY_PATH, ldconfig) is left to the loader.
            None => return Ok(RuntimeInfo { path, found_by, cuda: true, cuda_libraries: Vec::new() }),
        },
    };
    let failed = |dir: &Path, message: String| RuntimeError::CudaLibraries { device, dir: dir.to_path_buf(), message };
    // Dependencies before their dependents: ONNX Runtime's CUDA provider then finds them all
    // loaded by name. NVRTC's builtins too (it loads them by name when it compiles).
    let in_dir = |dir: &Path, names: &[&str]| -> Vec<PathBuf> { names.iter().map(|n| dir.join(n)).collect() };
    let mut libraries = in_dir(&cuda, ort::ep::cuda::CUDA_DYLIBS);
    libraries.extend(in_dir(&cudnn, ort::ep::cuda::CUDNN_DYLIBS));
    if let Ok(entries) = std::fs::read_dir(&cuda) {
        libraries
            .extend(entries.flatten().map(|e| e.path()).filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("libnvrtc-builtins.so"))));
    }
    for library in libraries {
        let dir = library.parent().unwrap_or(&cuda).to_path_buf();
        // SAFETY: NVIDIA's own libraries, loaded for their initialisers only; never unloaded.
        let loaded = unsafe { libloading::Library::new(&library) }.map_err(|e| {
            let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
            failed(&dir, why)
        })?;
        std::mem::forget(loaded);
    }
    let mut cuda_libraries = vec![cuda];
    if cudnn != cuda_libraries[0] {
        cuda_libraries.push(cudnn);
    }
    Ok(RuntimeInfo { path, found_by, cuda: true, cuda_libraries })
}

/// Python's NVIDIA wheels' library folders (CUDA 13, cuDNN 9), as pip installs them.
fn python_nvidia_dirs() -> Option<(PathBuf, PathBuf)> {
    let root = python_prints_path("import nvidia; print(list(nvidia.__path__)[0])")?;
    let (cuda, cudnn) = (root.join("cu13").join("lib"), root.join("cudnn").join("lib"));
    (cuda.join("libcudart.so.13").is_file() && cudnn.join("libcudnn.so.9").is_file()).then_some((cuda, cudnn))
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
