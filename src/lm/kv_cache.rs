//! The key/value cache of a batch of sequences.

use super::{LmError, ModelSpec};
use ort::value::{DynValue, Tensor};

/// Keys and values of every layer for `rows` sequences of `len` tokens each, held as the
/// ONNX Runtime values the model returned: feeding them back costs no copy.
pub struct KvCache {
    rows: usize,
    len: usize,
    layers: Vec<[DynValue; 2]>,
}

impl KvCache {
    pub(super) fn empty(spec: &ModelSpec, rows: usize) -> Result<Self, LmError> {
        let mut layers = Vec::with_capacity(spec.layers);
        for _ in 0..spec.layers {
            let k = Tensor::from_array(([rows, spec.kv_heads, 0, spec.head_dim], Vec::<f32>::new()))?.into_dyn();
            let v = Tensor::from_array(([rows, spec.kv_heads, 0, spec.head_dim], Vec::<f32>::new()))?.into_dyn();
            layers.push([k, v]);
        }
        Ok(Self { rows, len: 0, layers })
    }

    pub(super) fn from_layers(rows: usize, len: usize, layers: Vec<[DynValue; 2]>) -> Self {
        Self { rows, len, layers }
    }

    pub(super) fn layers(&self) -> &[[DynValue; 2]] {
        &self.layers
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Tokens cached per row.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A cache whose row `i` is this cache's row `parents[i]` (beams keep, drop or copy
    /// their parents' rows). Costs nothing when `parents` is `0..rows`.
    pub fn gather(self, parents: &[usize]) -> Result<Self, LmError> {
        if parents.iter().any(|&p| p >= self.rows) || parents.is_empty() {
            return Err(LmError::Internal(format!("gather {parents:?} from {} rows", self.rows)));
        }
        if parents.len() == self.rows {
            return self.permute_in_place(parents);
        }
        let rows = self.rows;
        self.copied(parents.len(), self.len, |_, data| {
            let row = data.len() / rows;
            let mut gathered = Vec::with_capacity(row * parents.len());
            for &p in parents {
                gathered.extend_from_slice(&data[p * row..(p + 1) * row]);
            }
            gathered
        })
    }

    /// Same row count: copy only the rows that change, inside the tensors already there.
    fn permute_in_place(mut self, parents: &[usize]) -> Result<Self, LmError> {
        let changed: Vec<usize> = (0..parents.len()).filter(|&i| parents[i] != i).collect();
        if changed.is_empty() {
            return Ok(self);
        }
        // Sources that are themselves overwritten are saved first.
        let mut saved_rows: Vec<usize> = changed.iter().map(|&i| parents[i]).filter(|p| changed.contains(p)).collect();
        saved_rows.sort_unstable();
        saved_rows.dedup();
        let mut scratch: Vec<f32> = Vec::new();
        for pair in self.layers.iter_mut() {
            for value in pair.iter_mut() {
                let (_, data) = value.try_extract_tensor_mut::<f32>()?;
                let row = data.len() / parents.len();
                scratch.clear();
                for &s in &saved_rows {
                    scratch.extend_from_slice(&data[s * row..(s + 1) * row]);
                }
                for &i in &changed {
                    let p = parents[i];
                    match saved_rows.binary_search(&p) {
                        Ok(k) => data[i * row..(i + 1) * row].copy_from_slice(&scratch[k * row..(k + 1) * row]),
                        Err(_) => data.copy_within(p * row..(p + 1) * row, i * row),
                    }
                }
            }
        }
        Ok(self)
    }

    /// Bytes of keys and values held.
    pub fn bytes(&self) -> Result<usize, LmError> {
        let mut total = 0;
        for pair in &self.layers {
            for value in pair {
                let (_, data) = value.try_extract_tensor::<f32>()?;
                total += std::mem::size_of_val(data);
            }
        }
        Ok(total)
    }

    /// A copy of the first `len` tokens of every row (a pass that ran further than the
    /// decoder went, cut back to where it went).
    pub fn prefix(&self, len: usize) -> Result<Self, LmError> {
        if len > self.len {
            return Err(LmError::Internal(format!("prefix of {len} tokens from a cache of {}", self.len)));
        }
        self.copied(self.rows, len, |&[_, _, full, dim], data| {
            let mut out = Vec::with_capacity(data.len() / full.max(1) * len);
            if len > 0 {
                for block in data.chunks_exact(full * dim) {
                    out.extend_from_slice(&block[..len * dim]);
                }
            }
            out
        })
    }

    /// A copy of one row, as a one-row cache.
    pub fn row(&self, index: usize) -> Result<Self, LmError> {
        if index >= self.rows {
            return Err(LmError::Internal(format!("row {index} of {} rows", self.rows)));
        }
        let rows = self.rows;
        self.copied(1, self.len, |_, data| {
            let row = data.len() / rows;
            data[index * row..(index + 1) * row].to_vec()
        })
    }

    /// A new cache of `rows` rows of `len` tokens, each key and value tensor made by `copy`
    /// from this cache's tensor (its dimensions, rows x heads x tokens x head size, and its
    /// data).
    fn copied(&self, rows: usize, len: usize, copy: impl Fn(&[usize; 4], &[f32]) -> Vec<f32>) -> Result<Self, LmError> {
        let mut layers = Vec::with_capacity(self.layers.len());
        for pair in &self.layers {
            let mut made = Vec::with_capacity(2);
            for value in pair {
                let (shape, data) = value.try_extract_tensor::<f32>()?;
                let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
                let Ok(dims) = <[usize; 4]>::try_from(dims.as_slice()) else {
                    return Err(LmError::Internal(format!("a cache tensor of shape {dims:?}")));
                };
                made.push(Tensor::from_array(([rows, dims[1], len, dims[3]], copy(&dims, data)))?.into_dyn());
            }
            let v = made.pop();
            let k = made.pop();
            match (k, v) {
                (Some(k), Some(v)) => layers.push([k, v]),
                _ => return Err(LmError::Internal("a cache copy lost a tensor".into())),
            }
        }
        Ok(Self { rows, len, layers })
    }
}
