//! `grounded bench --top-k-kernel --device cuda`: the GPU's log-softmax and top-k kernel over
//! B x V logits, its effective bandwidth (the logits' bytes read once, per second) against the
//! device's own, measured here by a device-to-device copy.

use crate::lm::gpu::{Gpu, GpuError};
use grounding::Device;
use serde::Serialize;
use std::time::Instant;

/// One size of the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct KernelRow {
    pub rows: usize,
    pub vocab: usize,
    pub k: usize,
    /// Median over the repeats of one call (upload of the row offsets, both kernels, and the
    /// B x k results back to the host).
    pub median_us: f64,
    /// Logits' bytes / median time.
    pub effective_gb_s: f64,
    /// `effective_gb_s` / the device's copy bandwidth.
    pub share_of_device: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct KernelReport {
    pub device: String,
    /// Device-to-device copy of 1 GiB: bytes read plus bytes written per second.
    pub device_gb_s: f64,
    pub repeats: usize,
    pub rows: Vec<KernelRow>,
}

/// The device's bandwidth: a 1 GiB device-to-device copy (read and write), median of `repeats`.
fn copy_bandwidth(gpu: &Gpu, repeats: usize) -> Result<f64, GpuError> {
    let n = 1usize << 28; // f32s: 1 GiB
    let stream = gpu.stream();
    let src = stream.alloc_zeros::<f32>(n)?;
    let mut dst = stream.alloc_zeros::<f32>(n)?;
    stream.memcpy_dtod(&src, &mut dst)?;
    stream.synchronize()?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        stream.memcpy_dtod(&src, &mut dst)?;
        stream.synchronize()?;
        times.push(t.elapsed());
    }
    Ok(2.0 * (n * 4) as f64 / super::median(times).as_secs_f64() / 1e9)
}

/// Sweep `rows` x `vocabs` with top-`k`, `repeats` timed calls each after a warm-up.
pub fn run(device: Device, rows: &[usize], vocabs: &[usize], k: usize, repeats: usize) -> Result<KernelReport, GpuError> {
    // The kernel needs NVRTC only: from the system, else from beside ONNX Runtime's CUDA
    // build, which starting the runtime loads.
    if !crate::lm::gpu::nvrtc_present() {
        crate::lm::gpu::check_device(device)?;
        crate::lm::start_runtime(device).map_err(|e| GpuError::Setup(e.to_string()))?;
    }
    let max_vocab = vocabs.iter().copied().max().unwrap_or(0);
    let choosable = vec![true; max_vocab];
    let gpu = Gpu::open(device, &choosable)?;
    let repeats = repeats.max(3);
    let device_gb_s = copy_bandwidth(&gpu, repeats)?;
    let mut out = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for &vocab in vocabs {
        for &b in rows {
            let host: Vec<f32> = (0..b * vocab)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((seed >> 40) as f32 / (1u64 << 24) as f32) * 20.0 - 10.0
                })
                .collect();
            let logits = gpu.stream().clone_htod(&host)?;
            gpu.top_k_of(&logits, vocab, b, k)?;
            let mut times = Vec::with_capacity(repeats);
            for _ in 0..repeats {
                let t = Instant::now();
                gpu.top_k_of(&logits, vocab, b, k)?;
                times.push(t.elapsed());
            }
            let t = super::median(times).as_secs_f64();
            let effective = (b * vocab * 4) as f64 / t / 1e9;
            out.push(KernelRow { rows: b, vocab, k, median_us: t * 1e6, effective_gb_s: effective, share_of_device: effective / device_gb_s });
        }
    }
    Ok(KernelReport { device: gpu.name(), device_gb_s, repeats, rows: out })
}

pub fn markdown(report: &KernelReport) -> String {
    let mut md = format!(
        "Top-k kernel on {} (device copy bandwidth {:.0} GB/s, 1 GiB device-to-device, read + write), median of {} calls; a call is the row offsets up, both kernels, B x k results down.\n\n",
        report.device, report.device_gb_s, report.repeats
    );
    md.push_str("| rows B | vocabulary V | k | per call | logits read | effective bandwidth | share of device |\n|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.rows {
        md.push_str(&format!(
            "| {} | {} | {} | {:.1} us | {:.2} MB | {:.0} GB/s | {:.0}% |\n",
            r.rows,
            r.vocab,
            r.k,
            r.median_us,
            (r.rows * r.vocab * 4) as f64 / 1e6,
            r.effective_gb_s,
            100.0 * r.share_of_device
        ));
    }
    md
}
