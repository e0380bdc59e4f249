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
        let mut layers = Vec::with_capacity(self.layers.len());
        for pair in &self.layers {
            let mut out: [Option<DynValue>; 2] = [None, None];
            for (slot, value) in out.iter_mut().zip(pair.iter()) {
                let (shape, data) = value.try_extract_tensor::<f32>()?;
                let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
                let row = data.len() / self.rows.max(1);
                let mut gathered = Vec::with_capacity(row * parents.len());
                for &p in parents {
                    gathered.extend_from_slice(&data[p * row..(p + 1) * row]);
                }
                let new_shape = [parents.len(), dims[1], dims[2], dims[3]];
                *slot = Some(Tensor::from_array((new_shape, gathered))?.into_dyn());
            }
            let [Some(k), Some(v)] = out else {
                return Err(LmError::Internal("gather lost a tensor".into()));
            };
            layers.push([k, v]);
        }
        Ok(Self { rows: parents.len(), len: self.len, layers })
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
        let mut layers = Vec::with_capacity(self.layers.len());
        for pair in &self.layers {
            let mut cut = Vec::with_capacity(2);
            for value in pair {
                let (shape, data) = value.try_extract_tensor::<f32>()?;
                let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
                let [rows, heads, full, dim] = dims[..] else {
                    return Err(LmError::Internal(format!("a cache tensor of shape {dims:?}")));
                };
                let mut out = Vec::with_capacity(rows * heads * len * dim);
                if len > 0 {
                    for block in data.chunks_exact(full * dim) {
                        out.extend_from_slice(&block[..len * dim]);
                    }
                }
                cut.push(Tensor::from_array(([rows, heads, len, dim], out))?.into_dyn());
            }
            let v = cut.pop();
            let k = cut.pop();
            match (k, v) {
                (Some(k), Some(v)) => layers.push([k, v]),
                _ => return Err(LmError::Internal("prefix lost a tensor".into())),
            }
        }
        Ok(Self { rows: self.rows, len, layers })
    }

    /// A copy of one row, as a one-row cache.
    pub fn row(&self, index: usize) -> Result<Self, LmError> {
        if index >= self.rows {
            return Err(LmError::Internal(format!("row {index} of {} rows", self.rows)));
        }
        let mut layers = Vec::with_capacity(self.layers.len());
        for pair in &self.layers {
            let mut copy = Vec::with_capacity(2);
            for value in pair {
                let (shape, data) = value.try_extract_tensor::<f32>()?;
                let row = data.len() / self.rows;
                let new_shape = [1usize, shape[1] as usize, shape[2] as usize, shape[3] as usize];
                copy.push(Tensor::from_array((new_shape, data[index * row..(index + 1) * row].to_vec()))?.into_dyn());
            }
            let v = copy.pop();
            let k = copy.pop();
            match (k, v) {
                (Some(k), Some(v)) => layers.push([k, v]),
                _ => return Err(LmError::Internal("row copy lost a tensor".into())),
            }
        }
        Ok(Self { rows: 1, len: self.len, layers })
    }
}
