//! The GPU path (`--device cuda`): the top-k kernel against the host's top-k, plans on the GPU
//! against plans on the CPU, and plain errors where there is no GPU.
//!
//! Tests that need an NVIDIA GPU skip, saying why, on a machine without one (set
//! GROUNDED_REQUIRE_GPU=1 to make that a failure: bench/gpu/run.sh does). The kernel's NVRTC
//! compile needs no GPU, only NVRTC (`bash tools/setup-onnxruntime.sh --gpu`).

mod common;

use common::{assert_identical, grounded, tabletop_scene, text};
use grounded::decoder::DecodeConfig;
use grounded::default_model_dir;
use grounded::lm::gpu::{self, Gpu};
use grounded::lm::LanguageModel;
use grounded::planner::{Method, Planner};
use grounding::Device;
use protocol::ObjectKind;

const CUDA: Device = Device::Cuda { ordinal: 0 };

/// Whether GPU tests run here; a skip says why on stderr (a failure where a GPU is required).
fn gpu_here(test: &str) -> bool {
    match gpu::check_device(CUDA) {
        Ok(_) => true,
        Err(e) => {
            assert!(std::env::var_os("GROUNDED_REQUIRE_GPU").is_none(), "{test}: GROUNDED_REQUIRE_GPU is set but {e}");
            eprintln!("{test}: skipped, no GPU here: {e}");
            false
        }
    }
}

/// A seeded stream of numbers in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32) / (1u64 << 24) as f32
    }
}

/// The top-k by the book: every choosable token sorted by log-probability (in f64), ties to
/// the lower id.
fn reference_top_k(row: &[f32], choosable: &[bool], k: usize) -> Vec<(u32, f64)> {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let log_z = max + row.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln();
    let mut all: Vec<(u32, f64)> = (0..row.len().min(choosable.len())).filter(|&i| choosable[i]).map(|i| (i as u32, row[i] as f64 - log_z)).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

#[test]
fn the_top_k_kernel_compiles_with_nvrtc() {
    // NVRTC needs no GPU: load it from the GPU set-up's folder if it is not on the system.
    let dir = grounding::runtime::project_gpu_cache_dir().join("cuda");
    if !gpu::nvrtc_present() {
        let Some(nvrtc) =
            std::fs::read_dir(&dir).ok().and_then(|entries| entries.flatten().map(|e| e.path()).find(|p| p.file_name().is_some_and(|n| n == "libnvrtc.so.13")))
        else {
            eprintln!("skipped: NVRTC is not installed (bash tools/setup-onnxruntime.sh --gpu puts it in {})", dir.display());
            return;
        };
        for lib in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
            if lib.file_name().is_some_and(|n| n.to_string_lossy().starts_with("libnvrtc-builtins")) {
                std::mem::forget(unsafe { libloading::Library::new(&lib) }.expect("load NVRTC's builtins"));
            }
        }
        std::mem::forget(unsafe { libloading::Library::new(&nvrtc) }.expect("load NVRTC"));
    }
    for arch in ["compute_75", "compute_90"] {
        let ptx = gpu::compile_top_k(Some(arch)).unwrap_or_else(|e| panic!("{arch}: {e}"));
        let ptx = ptx.to_src();
        for kernel in ["top_k_partial", "top_k_merge"] {
            assert!(ptx.contains(&format!(".entry {kernel}")), "{arch}: no {kernel} in the PTX");
        }
    }
}

#[test]
fn device_cuda_without_a_gpu_is_a_plain_error() {
    if gpu::check_device(CUDA).is_ok() {
        eprintln!("skipped: this machine has a GPU");
        return;
    }
    let Err(e) = LanguageModel::load_on(&default_model_dir(), 1, CUDA) else {
        panic!("loaded a model on a GPU that is not there");
    };
    let message = e.to_string();
    assert!(message.contains("--device cpu") && message.contains("cuda:0"), "{message}");
    // The CLI says the same and exits non-zero, without a panic.
    let scene = common::repo().join("examples/scenes/blocks-and-bowls.json");
    let out = grounded(&["plan", "--scene", scene.to_str().unwrap(), "--device", "cuda", "stack the blocks"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--device cpu") && !stderr.contains("panicked"), "{stderr}");
    let out = grounded(&["plan", "--scene", scene.to_str().unwrap(), "--device", "cuda:x", "stack the blocks"]);
    assert!(text(&out.stderr).contains("cuda:N"), "{}", text(&out.stderr));
}

#[test]
fn io_binding_changes_no_plan() {
    let scene =
        tabletop_scene(&[("red block", ObjectKind::Block), ("blue block", ObjectKind::Block), ("red bowl", ObjectKind::Bowl), ("blue bowl", ObjectKind::Bowl)]);
    let plan = |binding: bool, method: Method| {
        let mut lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
        lm.set_io_binding(binding);
        let mut p = Planner::tabletop(lm, DecodeConfig::default());
        p.plan("put the blocks in the bowls with matching colours", &scene, method).expect("a plan")
    };
    for method in [Method::GdGreedy, Method::GdBeam, Method::Saycan] {
        let (a, b) = (plan(false, method), plan(true, method));
        assert!(!a.skills().is_empty());
        assert_identical(&a, &b, &format!("{method:?}"));
    }
}

#[test]
fn the_top_k_kernel_agrees_with_the_book() {
    if !gpu_here("the_top_k_kernel_agrees_with_the_book") {
        return;
    }
    // The kernel needs NVRTC only: from the system (LD_LIBRARY_PATH), else from beside ONNX
    // Runtime's CUDA build, which starting the runtime loads.
    if !gpu::nvrtc_present() {
        grounded::lm::start_runtime(CUDA).expect("start the CUDA runtime (it loads NVRTC)");
    }
    let mut rng = Lcg(17);
    for (vocab, rows, k) in [(4_096, 1, 20), (4_096, 9, 5), (50_257, 4, 20), (151_936, 2, 64), (151_936, 16, 1), (300, 3, 64)] {
        // Every seventh token not choosable; the mask shorter than the rows (padded vocabularies).
        let choosable: Vec<bool> = (0..vocab - 7).map(|i| i % 7 != 3).collect();
        let gpu = Gpu::open(CUDA, &choosable).expect("open the GPU");
        let mut logits: Vec<f32> = (0..rows * vocab).map(|_| rng.next() * 20.0 - 10.0).collect();
        // A clear best token, a tie, -inf and a huge logit in some rows.
        logits[5] = 12.0;
        logits[vocab / 2] = 12.0;
        if rows > 1 {
            logits[vocab + 1] = f32::NEG_INFINITY;
            logits[vocab + 9] = 80.0;
        }
        let on_device = gpu.stream().clone_htod(&logits).expect("upload");
        let got = gpu.top_k_of(&on_device, vocab, rows, k).expect("top-k on the GPU");
        // Timing the kernels (the benchmark's CUDA events) changes nothing they give.
        let (timed, seconds) = gpu.top_k_of_timed(&on_device, vocab, rows, k).expect("timed top-k on the GPU");
        assert_eq!(timed, got, "vocab {vocab}: the timed call gave other results");
        assert!(seconds > 0.0 && seconds < 1.0, "vocab {vocab}: the kernels took {seconds} s");
        for r in 0..rows {
            let want = reference_top_k(&logits[r * vocab..(r + 1) * vocab], &choosable, k);
            let ids: Vec<u32> = got[r].iter().map(|t| t.0).collect();
            let want_ids: Vec<u32> = want.iter().map(|t| t.0).collect();
            assert_eq!(ids, want_ids, "vocab {vocab}, row {r}, k {k}");
            for ((_, lp), (_, w)) in got[r].iter().zip(&want) {
                assert!((*lp as f64 - w).abs() < 1e-4, "vocab {vocab}, row {r}: {lp} vs {w}");
            }
        }
    }
}

#[test]
fn plans_on_the_gpu_match_plans_on_the_cpu() {
    if !gpu_here("plans_on_the_gpu_match_plans_on_the_cpu") {
        return;
    }
    let scenes = [
        tabletop_scene(&[
            ("red block", ObjectKind::Block),
            ("blue block", ObjectKind::Block),
            ("green block", ObjectKind::Block),
            ("red bowl", ObjectKind::Bowl),
            ("blue bowl", ObjectKind::Bowl),
            ("green bowl", ObjectKind::Bowl),
        ]),
        tabletop_scene(&[("yellow block", ObjectKind::Block), ("purple block", ObjectKind::Block), ("gray bowl", ObjectKind::Bowl)]),
    ];
    let planner = |device: Device| {
        let lm = LanguageModel::load_on(&default_model_dir(), 1, device).expect("load the shipped model");
        Planner::tabletop(lm, DecodeConfig::default())
    };
    let (mut cpu, mut cuda) = (planner(Device::Cpu), planner(CUDA));
    assert!(cuda.lm.gpu().is_some());
    for scene in &scenes {
        for instruction in ["put the blocks in the bowls with matching colours", "stack all the blocks"] {
            for method in [Method::GdGreedy, Method::GdBeam, Method::Saycan] {
                let a = cpu.plan(instruction, scene, method).expect("a CPU plan");
                let b = cuda.plan(instruction, scene, method).expect("a GPU plan");
                assert_eq!(a.skills(), b.skills(), "{instruction:?} {method:?}");
                for (x, y) in a.steps.iter().zip(&b.steps) {
                    assert!((x.score - y.score).abs() < 1e-2, "{instruction:?} {method:?}: {} vs {}", x.score, y.score);
                }
            }
        }
    }
}

#[test]
fn the_top_k_kernel_runs_right_on_the_cpu() {
    // The kernel's source, unchanged, on CPU threads (tests/kernel_emulation): its logic is
    // checked on every machine, a GPU or not.
    let Ok(version) = std::process::Command::new("g++").arg("--version").output() else {
        assert!(std::env::var_os("GROUNDED_REQUIRE_KERNEL_EMULATION").is_none(), "GROUNDED_REQUIRE_KERNEL_EMULATION is set but there is no g++");
        eprintln!("skipped: no g++ here to build the kernel's CPU emulation (apt-get install g++)");
        return;
    };
    assert!(version.status.success());
    let exe = std::env::temp_dir().join(format!("grounded-top-k-on-cpu-{}", std::process::id()));
    let source = common::repo().join("tests/kernel_emulation/top_k_on_cpu.cpp");
    let built = std::process::Command::new("g++").args(["-std=c++20", "-O1", "-pthread"]).arg(&source).arg("-o").arg(&exe).output().expect("run g++");
    assert!(built.status.success(), "g++: {}", text(&built.stderr));
    let ran = std::process::Command::new(&exe).output().expect("run the emulation");
    let _ = std::fs::remove_file(&exe);
    let report = text(&ran.stdout);
    assert!(ran.status.success() && report.contains("all agree"), "{report}");
}

#[test]
fn the_kernel_benchmark_refuses_bad_settings_naming_them() {
    // Checked before any GPU is looked for, so these hold on every machine.
    let out = grounded(&["bench", "--top-k-kernel"]);
    assert!(!out.status.success() && text(&out.stderr).contains("--device cuda"), "{}", text(&out.stderr));
    for bad in [["--kernel-rows", "0"], ["--kernel-vocab", "0"]] {
        let out = grounded(&["bench", "--top-k-kernel", "--device", "cuda", bad[0], bad[1]]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success() && stderr.contains("--kernel-rows and --kernel-vocab"), "{bad:?}: {stderr}");
    }
    let out = grounded(&["bench", "--kernel-rows", "4"]);
    assert!(!out.status.success() && text(&out.stderr).contains("--top-k-kernel"), "{}", text(&out.stderr));
}
