//! The key/value cache of a batch of sequences.

use super::gpu::Gpu;
use super::{LmError, ModelSpec};
use ort::session::SessionInputValue;
use ort::value::{DynTensorValueType, DynValue, Tensor, TensorRef, ValueType};
use std::sync::{Arc, OnceLock};

/// Keys and values of every layer for `rows` sequences of `len` tokens each, held as the
/// ONNX Runtime values the model returned: feeding them back costs no copy. On a GPU they
/// stay in its memory from pass to pass; the operations that rearrange them (gathering beams,
/// cutting a pass back, copying a row) bring them to the host first, and the next pass takes
/// them up again.
pub struct KvCache {
    rows: usize,
    len: usize,
    layers: Layers,
    /// The GPU whose memory the tensors may be in.
    gpu: Option<Arc<Gpu>>,
}

/// Where a cache's keys and values are.
enum Layers {
    /// Its own tensors, one key and one value per layer.
    Own(Vec<[DynValue; 2]>),
    /// The first `len` tokens of another cache (a pass that ran further than the decoder has
    /// gone: [`KvCache::cut`]), copied out only when they are first read; most such cuts are
    /// let go unread, and one as long as its source is its source's tensors.
    Cut { of: Arc<KvCache>, made: OnceLock<Vec<[DynValue; 2]>> },
    /// Rows `first..first + rows` of another cache whose tensors are its own and on the host
    /// ([`KvCache::rows_of`]): a row of a batch is one block of each tensor, so a pass reads
    /// these rows where they are instead of a copy of them.
    Rows { of: Arc<KvCache>, first: usize },
}

/// One key or value tensor on the host: rows x heads x tokens x head size, and its data.
struct HostTensor<'a> {
    dims: [usize; 4],
    data: &'a [f32],
}

impl<'a> HostTensor<'a> {
    fn of(value: &'a DynValue) -> Result<Self, LmError> {
        let dims = cache_dims(value)?;
        let (_, data) = value.try_extract_tensor::<f32>()?;
        Ok(Self { dims, data })
    }

    /// Rows `first..first + count` of it (each row one block of the data).
    fn rows(&self, first: usize, count: usize) -> Self {
        let row = self.data.len() / self.dims[0].max(1);
        let [_, heads, len, size] = self.dims;
        Self { dims: [count, heads, len, size], data: &self.data[first * row..(first + count) * row] }
    }

    /// An ONNX Runtime value that reads the data in place.
    fn view(&self) -> Result<SessionInputValue<'a>, LmError> {
        Ok(TensorRef::from_array_view((self.dims, self.data))?.into())
    }
}

/// Dimensions of a tensor value (none for a value that is not a tensor).
fn dims_of(value: &DynValue) -> Option<Vec<usize>> {
    match value.dtype() {
        ValueType::Tensor { shape, .. } => shape.iter().map(|&d| usize::try_from(d).ok()).collect(),
        _ => None,
    }
}

/// A cache tensor's dimensions: rows x heads x tokens x head size.
fn cache_dims(value: &DynValue) -> Result<[usize; 4], LmError> {
    let dims = dims_of(value).ok_or_else(|| LmError::Internal("a cache value that is not a tensor".into()))?;
    <[usize; 4]>::try_from(dims.as_slice()).map_err(|_| LmError::Internal(format!("a cache tensor of shape {dims:?}")))
}

/// Whether `value` is in memory the host cannot read (the GPU's).
fn on_device(value: &DynValue) -> Result<bool, LmError> {
    Ok(!value.view().downcast::<DynTensorValueType>()?.memory_info().is_cpu_accessible())
}

/// A fresh host tensor with `value`'s contents, wherever `value` is.
fn host_tensor(value: &DynValue, gpu: &Gpu) -> Result<DynValue, LmError> {
    let dims = cache_dims(value)?;
    let count: usize = dims.iter().product();
    let data = if !on_device(value)? {
        value.try_extract_tensor::<f32>()?.1.to_vec()
    } else if count == 0 {
        Vec::new()
    } else {
        let tensor = value.view().downcast::<DynTensorValueType>()?;
        // SAFETY: the tensor is `count` f32 values in this GPU's memory, written by a run that
        // has returned, and `tensor` keeps it alive for the copy.
        unsafe { gpu.copy_to_host(tensor.data_ptr() as u64, count, 0, count) }.map_err(|e| LmError::Gpu(e.to_string()))?
    };
    Ok(Tensor::from_array((dims, data))?.into_dyn())
}

impl KvCache {
    pub(super) fn empty(spec: &ModelSpec, rows: usize) -> Result<Self, LmError> {
        let mut layers = Vec::with_capacity(spec.layers);
        for _ in 0..spec.layers {
            let k = Tensor::from_array(([rows, spec.kv_heads, 0, spec.head_dim], Vec::<f32>::new()))?.into_dyn();
            let v = Tensor::from_array(([rows, spec.kv_heads, 0, spec.head_dim], Vec::<f32>::new()))?.into_dyn();
            layers.push([k, v]);
        }
        Ok(Self { rows, len: 0, layers: Layers::Own(layers), gpu: None })
    }

    pub(super) fn from_layers(rows: usize, len: usize, layers: Vec<[DynValue; 2]>, gpu: Option<Arc<Gpu>>) -> Self {
        Self { rows, len, layers: Layers::Own(layers), gpu }
    }

    /// The first `len` tokens of every row of `of`, without copying them now: they are copied
    /// when first read (a pass from this cache, a gather, a row), and not at all when `len`
    /// is all of `of` or the cut is let go unread.
    pub fn cut(of: &Arc<KvCache>, len: usize) -> Result<Self, LmError> {
        if len > of.len {
            return Err(LmError::Internal(format!("cut of {len} tokens from a cache of {}", of.len)));
        }
        Ok(Self { rows: of.rows, len, layers: Layers::Cut { of: Arc::clone(of), made: OnceLock::new() }, gpu: of.gpu.clone() })
    }

    /// This cache with tensors of its own (a cut copied out now, unless it was read already).
    fn owned(self) -> Result<Self, LmError> {
        let Self { rows, len, layers, gpu } = self;
        match layers {
            Layers::Own(_) => Ok(Self { rows, len, layers, gpu }),
            Layers::Rows { .. } => Self { rows, len, layers, gpu }.copied(rows, len, |_, data| data.to_vec()),
            Layers::Cut { of, made } => match made.into_inner() {
                Some(made) => Ok(Self { rows, len, layers: Layers::Own(made), gpu }),
                None if len == of.len => Arc::try_unwrap(of).or_else(|shared| shared.prefix(len)),
                None => of.prefix(len),
            },
        }
    }

    /// A copy with every tensor in host memory, or `None` when they all are already (always so
    /// on the CPU).
    fn host_copy(&self) -> Result<Option<Self>, LmError> {
        let Some(gpu) = &self.gpu else { return Ok(None) };
        if self.all_on_host()? {
            return Ok(None);
        }
        let here = self.layers()?;
        let mut layers = Vec::with_capacity(here.len());
        for [k, v] in here {
            layers.push([host_tensor(k, gpu)?, host_tensor(v, gpu)?]);
        }
        Ok(Some(Self { rows: self.rows, len: self.len, layers: Layers::Own(layers), gpu: None }))
    }

    /// Whether every tensor is in host memory (always so on the CPU, and for rows read in place).
    fn all_on_host(&self) -> Result<bool, LmError> {
        if self.gpu.is_none() || matches!(self.layers, Layers::Rows { .. }) {
            return Ok(true);
        }
        for value in self.layers()?.iter().flatten() {
            if on_device(value)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// This cache with every tensor its own and in host memory.
    fn on_host(self) -> Result<Self, LmError> {
        let this = self.owned()?;
        Ok(this.host_copy()?.unwrap_or(this))
    }

    /// Each layer's key and value as a pass takes them: its own tensors, a cut's (copied out
    /// on first reading), or views of another cache's rows.
    pub(super) fn inputs(&self) -> Result<Vec<[SessionInputValue<'_>; 2]>, LmError> {
        if let Layers::Rows { .. } = self.layers {
            return self.host_tensors()?.iter().map(|[k, v]| Ok([k.view()?, v.view()?])).collect();
        }
        Ok(self.layers()?.iter().map(|[k, v]| [k.into(), v.into()]).collect())
    }

    /// Each layer's key and value tensors on the host, wherever they are held.
    fn host_tensors(&self) -> Result<Vec<[HostTensor<'_>; 2]>, LmError> {
        if let Layers::Rows { of, first } = &self.layers {
            let whole = of.host_tensors()?;
            return Ok(whole.iter().map(|pair| pair.each_ref().map(|t| t.rows(*first, self.rows))).collect());
        }
        self.layers()?.iter().map(|[k, v]| Ok([HostTensor::of(k)?, HostTensor::of(v)?])).collect()
    }

    /// Each layer's key and value tensors (a cut's copied out on first reading); rows of
    /// another cache have none of their own ([`host_tensors`](Self::host_tensors) reads them).
    fn layers(&self) -> Result<&[[DynValue; 2]], LmError> {
        match &self.layers {
            Layers::Own(layers) => Ok(layers),
            Layers::Rows { .. } => Err(LmError::Internal("rows of another cache read as tensors of their own".into())),
            Layers::Cut { of, .. } if self.len == of.len && !matches!(of.layers, Layers::Rows { .. }) => of.layers(),
            Layers::Cut { of, made } => {
                if made.get().is_none() {
                    // A prefix is always a copy with tensors of its own.
                    if let Layers::Own(layers) = of.prefix(self.len)?.layers {
                        let _ = made.set(layers);
                    }
                }
                made.get().map(Vec::as_slice).ok_or_else(|| LmError::Internal("a cut cache that could not be copied out".into()))
            }
        }
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
    /// their parents' rows). Costs nothing when `parents` is `0..rows`, and copies nothing
    /// when it is a run of rows in order (`2..4`, a lone row): those are read in place.
    pub fn gather(self, parents: &[usize]) -> Result<Self, LmError> {
        Self::gather_shared(Arc::new(self), parents)
    }

    /// [`gather`](Self::gather) from a cache that may be shared (e.g. with a finished skill's
    /// row, [`rows_of`](Self::rows_of)): rows are copied only where they must be.
    pub fn gather_shared(of: Arc<Self>, parents: &[usize]) -> Result<Self, LmError> {
        if parents.iter().any(|&p| p >= of.rows) || parents.is_empty() {
            return Err(LmError::Internal(format!("gather {parents:?} from {} rows", of.rows)));
        }
        let first = parents[0];
        if parents.iter().enumerate().all(|(i, &p)| p == first + i) {
            // Every row its own parent, and no one else holding them: nothing moves (nor
            // leaves the GPU).
            if parents.len() == of.rows {
                return Arc::try_unwrap(of).or_else(|shared| Self::rows_of(&shared, 0, parents.len()));
            }
            return Self::rows_of(&of, first, parents.len());
        }
        match Arc::try_unwrap(of) {
            Ok(own) if parents.len() == own.rows && !matches!(own.layers, Layers::Rows { .. }) => own.on_host()?.permute_in_place(parents),
            Ok(own) => own.gathered_copy(parents),
            Err(shared) => shared.gathered_copy(parents),
        }
    }

    /// Rows `first..first + count` of `of`, read in place by the passes that continue them
    /// where `of` holds its own tensors on the host (the batch a lock-step search ran, or
    /// rows of it); copied otherwise (a cut, or tensors in a GPU's memory).
    pub fn rows_of(of: &Arc<Self>, first: usize, count: usize) -> Result<Self, LmError> {
        of.check_rows(first, count)?;
        let (base, offset) = match &of.layers {
            Layers::Rows { of: base, first: offset } => (base, offset + first),
            Layers::Own(_) if of.len > 0 && of.all_on_host()? => (of, first),
            _ => return of.rows_copied(first, count),
        };
        Ok(Self { rows: count, len: of.len, layers: Layers::Rows { of: Arc::clone(base), first: offset }, gpu: None })
    }

    /// A new cache of the rows `parents` (on the host).
    fn gathered_copy(&self, parents: &[usize]) -> Result<Self, LmError> {
        if let Some(host) = self.host_copy()? {
            return host.gathered_copy(parents);
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
    fn permute_in_place(self, parents: &[usize]) -> Result<Self, LmError> {
        let changed: Vec<usize> = (0..parents.len()).filter(|&i| parents[i] != i).collect();
        if changed.is_empty() {
            return Ok(self);
        }
        let Self { rows, len, layers: Layers::Own(mut layers), gpu } = self.owned()? else {
            return Err(LmError::Internal("a cache without tensors of its own to permute".into()));
        };
        // Sources that are themselves overwritten are saved first.
        let mut saved_rows: Vec<usize> = changed.iter().map(|&i| parents[i]).filter(|p| changed.contains(p)).collect();
        saved_rows.sort_unstable();
        saved_rows.dedup();
        let mut scratch: Vec<f32> = Vec::new();
        for pair in layers.iter_mut() {
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
        Ok(Self { rows, len, layers: Layers::Own(layers), gpu })
    }

    /// Bytes of keys and values held (on the host or the GPU).
    pub fn bytes(&self) -> Result<usize, LmError> {
        if let Layers::Rows { of, .. } = &self.layers {
            return Ok(of.bytes()? / of.rows * self.rows);
        }
        let mut total = 0;
        for value in self.layers()?.iter().flatten() {
            let dims = dims_of(value).ok_or_else(|| LmError::Internal("a cache value that is not a tensor".into()))?;
            total += dims.iter().product::<usize>() * std::mem::size_of::<f32>();
        }
        Ok(total)
    }

    /// A copy of the first `len` tokens of every row (a pass that ran further than the
    /// decoder went, cut back to where it went).
    pub fn prefix(&self, len: usize) -> Result<Self, LmError> {
        if len > self.len {
            return Err(LmError::Internal(format!("prefix of {len} tokens from a cache of {}", self.len)));
        }
        if let Layers::Cut { of, made } = &self.layers {
            if made.get().is_none() {
                return of.prefix(len);
            }
        }
        if let Some(host) = self.host_copy()? {
            return host.prefix(len);
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
        self.rows_copied(index, 1)
    }

    /// That rows `first..first + count` are some of this cache's.
    fn check_rows(&self, first: usize, count: usize) -> Result<(), LmError> {
        if count == 0 || first + count > self.rows {
            return Err(LmError::Internal(format!("rows {first}..{} of {} rows", first + count, self.rows)));
        }
        Ok(())
    }

    /// A copy of rows `first..first + count`.
    fn rows_copied(&self, first: usize, count: usize) -> Result<Self, LmError> {
        self.check_rows(first, count)?;
        if let Some(host) = self.host_copy()? {
            return host.rows_copied(first, count);
        }
        let rows = self.rows;
        self.copied(count, self.len, |_, data| {
            let row = data.len() / rows;
            data[first * row..(first + count) * row].to_vec()
        })
    }

    /// A new cache of `rows` rows of `len` tokens, each key and value tensor made by `copy`
    /// from this cache's tensor (its dimensions, rows x heads x tokens x head size, and its
    /// data).
    fn copied(&self, rows: usize, len: usize, copy: impl Fn(&[usize; 4], &[f32]) -> Vec<f32>) -> Result<Self, LmError> {
        let made = |t: &HostTensor<'_>| -> Result<DynValue, LmError> {
            let [_, heads, _, size] = t.dims;
            Ok(Tensor::from_array(([rows, heads, len, size], copy(&t.dims, t.data)))?.into_dyn())
        };
        let layers = self.host_tensors()?.iter().map(|[k, v]| Ok([made(k)?, made(v)?])).collect::<Result<_, LmError>>()?;
        Ok(Self { rows, len, layers: Layers::Own(layers), gpu: None })
    }
}
