//! The logits of one forward pass, on the host or left on the GPU.

use super::gpu::Gpu;
use super::{LmError, TokenId};
use ort::value::DynTensor;
use std::sync::{Arc, OnceLock};

/// A row's best tokens and their log-probabilities, best first.
pub type TopTokens = Vec<(TokenId, f32)>;

/// Logits of a forward pass: `rows` x `positions` x `vocab`.
pub struct Logits {
    pub rows: usize,
    pub positions: usize,
    pub vocab: usize,
    storage: Storage,
}

enum Storage {
    /// A copy on the host: a decoding pass's, whose rows the top-k reads at once (measured
    /// faster than reading ONNX Runtime's tensor in place, at 4k and 152k tokens).
    Host(Vec<f32>),
    /// ONNX Runtime's own tensor in host memory, read where it is: a prompt's pass, of whose
    /// positions only the last is read (a copy would cost positions x vocabulary floats: a
    /// 500-token prompt over a 152k vocabulary, 300 MB), or a scoring pass's.
    HostTensor(DynTensor),
    /// Left where ONNX Runtime's CUDA provider wrote them; a row is copied to the host only
    /// when asked for whole ([`Logits::at`]), once.
    Device { tensor: DynTensor, gpu: Arc<Gpu>, copied: Vec<OnceLock<Vec<f32>>> },
}

impl std::fmt::Debug for Logits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = match &self.storage {
            Storage::Host(_) | Storage::HostTensor(_) => "host",
            Storage::Device { .. } => "device",
        };
        write!(f, "Logits[{} x {} x {} on the {place}]", self.rows, self.positions, self.vocab)
    }
}

impl Logits {
    /// Logits ONNX Runtime wrote in host memory, `rows x positions x vocab` of them: copied
    /// when `copy` (a decoding pass), else read in place.
    pub(super) fn host(rows: usize, positions: usize, vocab: usize, tensor: DynTensor, copy: bool) -> Result<Self, LmError> {
        let (_, data) = tensor.try_extract_tensor::<f32>()?;
        if data.len() != rows * positions * vocab {
            return Err(LmError::Internal(format!("{} logits for {rows} x {positions} x {vocab}", data.len())));
        }
        let storage = if copy { Storage::Host(data.to_vec()) } else { Storage::HostTensor(tensor) };
        Ok(Self { rows, positions, vocab, storage })
    }

    pub(super) fn device(rows: usize, positions: usize, vocab: usize, tensor: DynTensor, gpu: Arc<Gpu>) -> Self {
        let copied = (0..rows * positions).map(|_| OnceLock::new()).collect();
        Self { rows, positions, vocab, storage: Storage::Device { tensor, gpu, copied } }
    }

    /// Whether the logits are still on the GPU.
    pub fn on_device(&self) -> bool {
        matches!(self.storage, Storage::Device { .. })
    }

    fn index(&self, row: usize, position: usize) -> Result<usize, LmError> {
        if row >= self.rows || position >= self.positions {
            return Err(LmError::Internal(format!("logits at row {row}, position {position} of {} x {}", self.rows, self.positions)));
        }
        Ok(row * self.positions + position)
    }

    /// One row's logits at one position (copied from the GPU the first time, if there).
    pub fn at(&self, row: usize, position: usize) -> Result<&[f32], LmError> {
        let i = self.index(row, position)?;
        match &self.storage {
            Storage::Host(data) => Ok(&data[i * self.vocab..(i + 1) * self.vocab]),
            Storage::HostTensor(tensor) => {
                let (_, data) = tensor.try_extract_tensor::<f32>()?;
                Ok(&data[i * self.vocab..(i + 1) * self.vocab])
            }
            Storage::Device { tensor, gpu, copied } => {
                if let Some(row) = copied[i].get() {
                    return Ok(row);
                }
                // SAFETY: the tensor is this GPU's, rows x positions x vocab f32 long, written by
                // a run that has returned, and held by `self`.
                let data =
                    unsafe { gpu.copy_to_host(tensor.data_ptr() as u64, self.len(), i * self.vocab, self.vocab) }.map_err(|e| LmError::Gpu(e.to_string()))?;
                Ok(copied[i].get_or_init(|| data))
            }
        }
    }

    /// The logits that predict the token after each row's last input.
    pub fn last(&self, row: usize) -> Result<&[f32], LmError> {
        let last = self.positions.checked_sub(1).ok_or_else(|| LmError::Internal("logits of no positions".into()))?;
        self.at(row, last)
    }

    fn len(&self) -> usize {
        self.rows * self.positions * self.vocab
    }

    /// For logits on the GPU: the best `k` choosable tokens and their log-probabilities at each
    /// `(row, position)` of `picks`, found there; `None` for logits on the host.
    pub fn top_k_on_device(&self, picks: &[(usize, usize)], k: usize) -> Option<Result<Vec<TopTokens>, LmError>> {
        let Storage::Device { tensor, gpu, .. } = &self.storage else {
            return None;
        };
        let run = || {
            let offsets = picks.iter().map(|&(r, p)| self.index(r, p).map(|i| i * self.vocab)).collect::<Result<Vec<_>, _>>()?;
            // SAFETY: as in `at`.
            let tops = unsafe { gpu.top_k(tensor.data_ptr() as u64, self.len(), self.vocab, &offsets, k) }.map_err(|e| LmError::Gpu(e.to_string()))?;
            Ok(tops.into_iter().map(|top| top.into_iter().map(|(id, lp)| (TokenId(id), lp)).collect()).collect())
        };
        Some(run())
    }
}
