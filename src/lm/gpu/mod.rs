//! The decoder's per-token work on a CUDA GPU, through cudarc.
//!
//! With `--device cuda` the language model's logits stay on the GPU (ONNX Runtime's I/O
//! binding), and [`Gpu::top_k`] reads them there: one kernel (`top_k.cu`, compiled at run time
//! with NVRTC) computes each selected row's log-softmax normaliser and best k choosable tokens,
//! so only rows x k (token, log-probability) pairs cross to the host. cudarc loads the driver
//! and NVRTC at run time: a build without CUDA works, and [`Gpu::open`] says plainly what is
//! missing on a machine without a GPU.

use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};
use grounding::Device;
use std::sync::{Arc, Mutex};

/// The kernel's source; compiled once per [`Gpu`].
pub const TOP_K_SOURCE: &str = include_str!("top_k.cu");

/// Threads per block, as `THREADS` in the kernel.
const THREADS: u32 = 256;

/// The most candidates per row the kernel keeps (`K_MAX` in the kernel).
pub const MAX_K: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "--device {device}: no NVIDIA driver was found (libcuda.so.1 could not be loaded), so this machine cannot run CUDA; run on the CPU with --device cpu"
    )]
    NoDriver { device: Device },
    #[error("--device {device}: the NVIDIA driver found no usable GPU ({message}); check nvidia-smi, or run on the CPU with --device cpu")]
    NoGpu { device: Device, message: String },
    #[error("--device {device}: there is no GPU {ordinal}; this machine has {count} (cuda:0 to cuda:{}), or run on the CPU with --device cpu", count.saturating_sub(1))]
    NoSuchGpu { device: Device, ordinal: u32, count: i32 },
    #[error("--device {device}: NVRTC (libnvrtc.so.13), which compiles the decoder's kernel, was not found; install it with `bash tools/setup-onnxruntime.sh --gpu`")]
    NoNvrtc { device: Device },
    #[error("the decoder's top-k kernel did not compile with NVRTC: {0}")]
    Compile(String),
    #[error("top-{k} is more than the GPU kernel keeps ({MAX_K}); use --top-k {MAX_K} or less")]
    TooManyCandidates { k: usize },
    #[error("{what}: rows at {offsets:?} of {vocab} logits each do not fit a buffer of {len}")]
    OutOfBounds { what: &'static str, offsets: Vec<usize>, vocab: usize, len: usize },
    #[error("CUDA: {0}")]
    Driver(String),
    #[error("{0}")]
    Setup(String),
}

impl From<cudarc::driver::DriverError> for GpuError {
    fn from(e: cudarc::driver::DriverError) -> Self {
        GpuError::Driver(e.to_string())
    }
}

/// Whether this machine can load the NVIDIA driver at all (a build without CUDA runs fine
/// without it; GPU tests skip where this is false).
pub fn driver_present() -> bool {
    // SAFETY: only tries to open the driver library; nothing is called through it.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Whether NVRTC can be loaded (from the system, or loaded already by the runtime's start).
pub fn nvrtc_present() -> bool {
    // SAFETY: as `driver_present`.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// That `device` is a GPU this machine has (its driver loads and counts it): its ordinal.
pub fn check_device(device: Device) -> Result<u32, GpuError> {
    let Device::Cuda { ordinal } = device else {
        return Err(GpuError::Driver(format!("{device} is not a GPU")));
    };
    if !driver_present() {
        return Err(GpuError::NoDriver { device });
    }
    cudarc::driver::result::init().map_err(|e| GpuError::NoGpu { device, message: e.to_string() })?;
    let count = CudaContext::device_count().map_err(|e| GpuError::NoGpu { device, message: e.to_string() })?;
    if count <= 0 {
        return Err(GpuError::NoGpu { device, message: "it reports 0 devices".into() });
    }
    if i64::from(ordinal) >= i64::from(count) {
        return Err(GpuError::NoSuchGpu { device, ordinal, count });
    }
    Ok(ordinal)
}

/// Compile the top-k kernel to PTX (NVRTC alone: no GPU needed).
pub fn compile_top_k(arch: Option<&'static str>) -> Result<cudarc::nvrtc::Ptx, GpuError> {
    let options = cudarc::nvrtc::CompileOptions { arch, name: Some("top_k.cu".into()), ..Default::default() };
    cudarc::nvrtc::compile_ptx_with_opts(TOP_K_SOURCE, options).map_err(|e| GpuError::Compile(e.to_string()))
}

/// Each selected row's best tokens, best first: (token id, log-probability).
pub type RowTops = Vec<Vec<(u32, f32)>>;

/// Buffers reused across calls, grown as needed.
#[derive(Default)]
struct Scratch {
    offsets: Option<CudaSlice<u64>>,
    part_m: Option<CudaSlice<f32>>,
    part_s: Option<CudaSlice<f32>>,
    part_v: Option<CudaSlice<f32>>,
    part_id: Option<CudaSlice<i32>>,
    out_logprob: Option<CudaSlice<f32>>,
    out_id: Option<CudaSlice<i32>>,
}

/// The buffer in `slot`, made (or remade larger) to hold at least `len` values.
fn ensure<'a, T: cudarc::driver::DeviceRepr + cudarc::driver::ValidAsZeroBits>(
    stream: &Arc<CudaStream>,
    slot: &'a mut Option<CudaSlice<T>>,
    len: usize,
) -> Result<&'a mut CudaSlice<T>, GpuError> {
    if slot.as_ref().is_none_or(|s| s.len() < len) {
        *slot = Some(stream.alloc_zeros::<T>(len.max(1))?);
    }
    slot.as_mut().ok_or_else(|| GpuError::Driver("a scratch buffer was not made".into()))
}

/// One GPU, its compiled kernels, and the decoder's choosable-token mask on it.
pub struct Gpu {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    partial: CudaFunction,
    merge: CudaFunction,
    choosable: CudaSlice<u8>,
    multiprocessors: u32,
    scratch: Mutex<Scratch>,
}

impl Gpu {
    /// Open `device` (a CUDA GPU), compile the kernel and upload `choosable` (`choosable[id]`:
    /// the decoder may choose token `id`). NVRTC must be loadable: the runtime's start for a
    /// CUDA device loads it from beside ONNX Runtime's CUDA build.
    pub fn open(device: Device, choosable: &[bool]) -> Result<Self, GpuError> {
        let ordinal = check_device(device)?;
        if !nvrtc_present() {
            return Err(GpuError::NoNvrtc { device });
        }
        let ctx = CudaContext::new(ordinal as usize).map_err(|e| GpuError::NoGpu { device, message: e.to_string() })?;
        let (major, minor) = ctx.compute_capability()?;
        // NVRTC wants a 'static name; one per device kind opened, at most a handful a process.
        let arch: &'static str = Box::leak(format!("compute_{major}{minor}").into_boxed_str());
        let module = ctx.load_module(compile_top_k(Some(arch))?)?;
        let partial = module.load_function("top_k_partial")?;
        let merge = module.load_function("top_k_merge")?;
        let stream = ctx.default_stream();
        let mask: Vec<u8> = choosable.iter().map(|&c| u8::from(c)).collect();
        let choosable = stream.clone_htod(&mask)?;
        let multiprocessors = ctx.attribute(cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?.max(1) as u32;
        Ok(Self { ctx, stream, partial, merge, choosable, multiprocessors, scratch: Mutex::new(Scratch::default()) })
    }

    /// The GPU's name, as the driver gives it.
    pub fn name(&self) -> String {
        self.ctx.name().unwrap_or_else(|_| "an unnamed GPU".into())
    }

    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// Blocks per row: enough for a few rows to fill the GPU, each block reading a few
    /// elements per thread.
    fn chunk(&self, rows: usize, vocab: usize) -> usize {
        let want_blocks = (2 * self.multiprocessors as usize).div_ceil(rows.max(1)).max(1);
        let per_block = vocab.div_ceil(want_blocks).max(4 * THREADS as usize);
        per_block.div_ceil(THREADS as usize) * THREADS as usize
    }

    /// The best `k` choosable tokens of each selected row, best first (ties to the lower id),
    /// with their log-probabilities under the row's softmax over all `vocab` logits.
    ///
    /// # Safety
    /// `logits` must point to at least `len` f32 values in this GPU's memory, written by work
    /// that has finished (ONNX Runtime's run has returned), and stay valid during the call.
    pub unsafe fn top_k(&self, logits: u64, len: usize, vocab: usize, offsets: &[usize], k: usize) -> Result<RowTops, GpuError> {
        // SAFETY: the caller's guarantees are passed on.
        unsafe { self.run_top_k(logits, len, vocab, offsets, k, false) }.map(|(tops, _)| tops)
    }

    /// [`top_k`](Self::top_k), and with `time` the seconds the device spent in the two kernels
    /// alone (CUDA events recorded on the stream before the first launch and after the second:
    /// no upload, no copy back, no host work); `None` without `time`.
    ///
    /// # Safety
    /// As [`top_k`](Self::top_k).
    unsafe fn run_top_k(&self, logits: u64, len: usize, vocab: usize, offsets: &[usize], k: usize, time: bool) -> Result<(RowTops, Option<f64>), GpuError> {
        if k > MAX_K {
            return Err(GpuError::TooManyCandidates { k });
        }
        if offsets.iter().any(|&o| o.checked_add(vocab).is_none_or(|end| end > len)) || vocab > i32::MAX as usize {
            return Err(GpuError::OutOfBounds { what: "top-k", offsets: offsets.to_vec(), vocab, len });
        }
        if offsets.is_empty() || k == 0 || vocab == 0 {
            return Ok((vec![Vec::new(); offsets.len()], time.then_some(0.0)));
        }
        let rows = offsets.len();
        let chunk = self.chunk(rows, vocab);
        let chunks = vocab.div_ceil(chunk);
        let mut guard = self.scratch.lock().map_err(|_| GpuError::Driver("the top-k scratch lock was poisoned".into()))?;
        let s = &mut *guard;
        let stream = &self.stream;
        let offs = ensure(stream, &mut s.offsets, rows)?;
        let part_m = ensure(stream, &mut s.part_m, rows * chunks)?;
        let part_s = ensure(stream, &mut s.part_s, rows * chunks)?;
        let part_v = ensure(stream, &mut s.part_v, rows * chunks * k)?;
        let part_id = ensure(stream, &mut s.part_id, rows * chunks * k)?;
        let out_lp = ensure(stream, &mut s.out_logprob, rows * k)?;
        let out_id = ensure(stream, &mut s.out_id, rows * k)?;
        let host_offsets: Vec<u64> = offsets.iter().map(|&o| o as u64).collect();
        stream.memcpy_htod(&host_offsets, &mut offs.slice_mut(0..rows))?;
        let (vocab_i, len_i, k_i, chunk_i, chunks_i) =
            (vocab as i32, self.choosable.len().min(i32::MAX as usize) as i32, k as i32, chunk as i32, chunks as i32);
        let event = || stream.record_event(Some(cudarc::driver::sys::CUevent_flags::CU_EVENT_DEFAULT));
        let started = if time { Some(event()?) } else { None };
        let mut launch = stream.launch_builder(&self.partial);
        launch
            .arg(&logits)
            .arg(&*offs)
            .arg(&vocab_i)
            .arg(&self.choosable)
            .arg(&len_i)
            .arg(&k_i)
            .arg(&chunk_i)
            .arg(&mut *part_m)
            .arg(&mut *part_s)
            .arg(&mut *part_v)
            .arg(&mut *part_id);
        let cfg = LaunchConfig { grid_dim: (chunks as u32, rows as u32, 1), block_dim: (THREADS, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: the arguments match the kernel's signature; every index stays inside the
        // buffers sized above and the row bounds checked on entry.
        unsafe { launch.launch(cfg) }?;
        let mut launch = stream.launch_builder(&self.merge);
        launch.arg(&*part_m).arg(&*part_s).arg(&*part_v).arg(&*part_id).arg(&chunks_i).arg(&k_i).arg(&mut *out_lp).arg(&mut *out_id);
        let cfg = LaunchConfig { grid_dim: (rows as u32, 1, 1), block_dim: (THREADS, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: as above.
        unsafe { launch.launch(cfg) }?;
        let ended = if time { Some(event()?) } else { None };
        let lp = stream.clone_dtoh(&out_lp.slice(0..rows * k))?;
        let ids = stream.clone_dtoh(&out_id.slice(0..rows * k))?;
        let tops = (0..rows).map(|r| (0..k).filter(|&j| ids[r * k + j] >= 0).map(|j| (ids[r * k + j] as u32, lp[r * k + j])).collect()).collect();
        let seconds = match (started, ended) {
            (Some(a), Some(b)) => Some(f64::from(a.elapsed_ms(&b)?) / 1e3),
            _ => None,
        };
        Ok((tops, seconds))
    }

    /// [`top_k`](Self::top_k) of `rows` rows of `vocab` logits held in a cudarc buffer (tests,
    /// benchmarks).
    pub fn top_k_of(&self, logits: &CudaSlice<f32>, vocab: usize, rows: usize, k: usize) -> Result<RowTops, GpuError> {
        self.run_top_k_of(logits, vocab, rows, k, false).map(|(tops, _)| tops)
    }

    /// [`top_k_of`](Self::top_k_of), and the seconds the device spent in the two kernels alone
    /// (CUDA events on the stream: no upload, no copy back, no host work).
    pub fn top_k_of_timed(&self, logits: &CudaSlice<f32>, vocab: usize, rows: usize, k: usize) -> Result<(RowTops, f64), GpuError> {
        let (tops, seconds) = self.run_top_k_of(logits, vocab, rows, k, true)?;
        let seconds = seconds.ok_or_else(|| GpuError::Driver("the kernels' time was asked for and not measured".into()))?;
        Ok((tops, seconds))
    }

    fn run_top_k_of(&self, logits: &CudaSlice<f32>, vocab: usize, rows: usize, k: usize, time: bool) -> Result<(RowTops, Option<f64>), GpuError> {
        use cudarc::driver::DevicePtr;
        let (ptr, _sync) = logits.device_ptr(&self.stream);
        let offsets: Vec<usize> = (0..rows).map(|r| r * vocab).collect();
        // SAFETY: the buffer is this GPU's, `logits.len()` long, and alive for the call.
        unsafe { self.run_top_k(ptr, logits.len(), vocab, &offsets, k, time) }
    }

    /// Copy `count` f32 values at element `offset` of a device buffer to the host.
    ///
    /// # Safety
    /// As [`top_k`](Self::top_k).
    pub unsafe fn copy_to_host(&self, ptr: u64, len: usize, offset: usize, count: usize) -> Result<Vec<f32>, GpuError> {
        if offset.checked_add(count).is_none_or(|end| end > len) {
            return Err(GpuError::OutOfBounds { what: "copy to host", offsets: vec![offset], vocab: count, len });
        }
        let mut host = vec![0f32; count];
        self.ctx.bind_to_thread()?;
        // SAFETY: the range was checked against the buffer's length above.
        unsafe { cudarc::driver::result::memcpy_dtoh_sync(&mut host, ptr + (offset * 4) as u64) }?;
        Ok(host)
    }
}
