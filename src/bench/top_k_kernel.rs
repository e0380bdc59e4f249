//! `grounded bench --top-k-kernel --device cuda`: the GPU's log-softmax and top-k kernel over
//! B x V logits, its effective bandwidth (the logits' bytes read once, per second) against the
//! device's own, measured here by a device-to-device copy.

use crate::lm::gpu::{Gpu, GpuError};
use grounding::Device;
use serde::Serialize;
use std::time::{Duration, Instant};

/// One size of the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct KernelRow {
    pub rows: usize,
    pub vocab: usize,
    pub k: usize,
    /// Median over the repeats of one call (upload of the row offsets, both kernels, and the
    /// B x k results back to the host).
    pub median_us: f64,
    /// Logits' bytes / median time of a call.
    pub effective_gb_s: f64,
    /// `effective_gb_s` / the device's copy bandwidth.
    pub share_of_device: f64,
    /// Median over the repeats of the two kernels alone, between CUDA events on the stream.
    pub kernel_us: f64,
    /// Logits' bytes / `kernel_us`: the kernel's effective bandwidth.
    pub kernel_gb_s: f64,
    /// `kernel_gb_s` / the device's copy bandwidth (issue 17's target: 70% or more).
    pub kernel_share_of_device: f64,
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
            let mut calls = Vec::with_capacity(repeats);
            let mut kernels = Vec::with_capacity(repeats);
            for _ in 0..repeats {
                let t = Instant::now();
                let (_, kernel) = gpu.top_k_of_timed(&logits, vocab, b, k)?;
                calls.push(t.elapsed());
                kernels.push(Duration::from_secs_f64(kernel.max(0.0)));
            }
            let bytes = (b * vocab * 4) as f64;
            let call = super::median(calls).as_secs_f64();
            let kernel = super::median(kernels).as_secs_f64();
            let (effective, kernel_gb_s) = (bytes / call / 1e9, bytes / kernel / 1e9);
            out.push(KernelRow {
                rows: b,
                vocab,
                k,
                median_us: call * 1e6,
                effective_gb_s: effective,
                share_of_device: effective / device_gb_s,
                kernel_us: kernel * 1e6,
                kernel_gb_s,
                kernel_share_of_device: kernel_gb_s / device_gb_s,
            });
        }
    }
    Ok(KernelReport { device: gpu.name(), device_gb_s, repeats, rows: out })
}

pub fn markdown(report: &KernelReport) -> String {
    let mut md = format!(
        "Top-k kernel on {} (device copy bandwidth {:.0} GB/s, 1 GiB device-to-device, read + write), median of {} calls. \
         The kernels: both kernels alone, between CUDA events on the stream; a call: the row offsets up, both kernels, B x k results down, \
         as the decoder makes it. Bandwidth: the logits' bytes, read once, per second.\n\n",
        report.device, report.device_gb_s, report.repeats
    );
    md.push_str(
        "| rows B | vocabulary V | k | logits read | the kernels | their bandwidth | share of device | per call | its bandwidth | share of device |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &report.rows {
        md.push_str(&format!(
            "| {} | {} | {} | {:.2} MB | {:.1} us | {:.0} GB/s | {:.0}% | {:.1} us | {:.0} GB/s | {:.0}% |\n",
            r.rows,
            r.vocab,
            r.k,
            (r.rows * r.vocab * 4) as f64 / 1e6,
            r.kernel_us,
            r.kernel_gb_s,
            100.0 * r.kernel_share_of_device,
            r.median_us,
            r.effective_gb_s,
            100.0 * r.share_of_device
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_gives_the_kernels_and_the_call_apart() {
        let row = KernelRow {
            rows: 4,
            vocab: 151_936,
            k: 20,
            median_us: 40.0,
            effective_gb_s: 60.8,
            share_of_device: 0.02,
            kernel_us: 8.0,
            kernel_gb_s: 303.9,
            kernel_share_of_device: 0.1,
        };
        let md = markdown(&KernelReport { device: "a GPU".into(), device_gb_s: 3039.0, repeats: 5, rows: vec![row] });
        let line = md.lines().find(|l| l.starts_with("| 4 |")).expect("a row for B = 4");
        assert_eq!(line, "| 4 | 151936 | 20 | 2.43 MB | 8.0 us | 304 GB/s | 10% | 40.0 us | 61 GB/s | 2% |");
        assert!(md.contains("3039 GB/s"), "{md}");
    }
}
