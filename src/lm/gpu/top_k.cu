// Per-row log-softmax normaliser and top-k over a language model's logits, on the device.
//
// Compiled at run time with NVRTC (src/lm/gpu/mod.rs). Two kernels, so that a few long rows
// still fill the device:
//   top_k_partial: grid (chunks, rows). Each block reads one chunk of one row once: an online
//     max / sum of exponentials, and the chunk's best k choosable tokens (by logit, ties to
//     the lower id, as the host decoder ranks them).
//   top_k_merge:   grid (rows). Combines a row's chunks into log Z and its best k, written as
//     (token id, logit - log Z); ids of -1 mark places past the choosable tokens. It reads the
//     chunks' candidates once (each thread keeps its best k), not once per place.
// Only rows x k pairs go back to the host.

#define THREADS 256
#define WARPS (THREADS / 32)
#define K_MAX 64
// NVRTC has no math.h: -infinity by its bits.
#define NEG_INF __int_as_float(0xff800000)

// a ranks before b: higher logit, then lower id.
__device__ __forceinline__ bool before(float a, int ia, float b, int ib) {
    return a > b || (a == b && ia >= 0 && (ib < 0 || ia < ib));
}

// (m, s) pairs: s = sum of exp(x - m) over the elements seen.
__device__ __forceinline__ void combine(float &m, float &s, float m2, float s2) {
    float hi = fmaxf(m, m2);
    if (hi == NEG_INF) { m = hi; s = 0.0f; return; }
    s = s * expf(m - hi) + s2 * expf(m2 - hi);
    m = hi;
}

// A thread's best k so far (top_v/top_id, best first, `held` of them): (v, i) goes in its
// place if it is among them, the last falling out when all k are held.
__device__ __forceinline__ void keep(float v, int i, float *top_v, int *top_id, int &held, int k) {
    if (held == k && !before(v, i, top_v[k - 1], top_id[k - 1])) return;
    int at = held < k ? held++ : k - 1;
    while (at > 0 && before(v, i, top_v[at - 1], top_id[at - 1])) {
        top_v[at] = top_v[at - 1]; top_id[at] = top_id[at - 1]; --at;
    }
    top_v[at] = v; top_id[at] = i;
}

// Block-wide (max, sum) of every thread's pair; every thread gets the result.
__device__ void block_normaliser(float &m, float &s, float *sh_m, float *sh_s) {
    for (int off = 16; off > 0; off >>= 1) {
        float m2 = __shfl_down_sync(0xffffffffu, m, off);
        float s2 = __shfl_down_sync(0xffffffffu, s, off);
        combine(m, s, m2, s2);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sh_m[warp] = m; sh_s[warp] = s; }
    __syncthreads();
    if (threadIdx.x == 0) {
        float bm = sh_m[0], bs = sh_s[0];
        for (int w = 1; w < WARPS; ++w) combine(bm, bs, sh_m[w], sh_s[w]);
        sh_m[0] = bm; sh_s[0] = bs;
    }
    __syncthreads();
    m = sh_m[0]; s = sh_s[0];
    __syncthreads();
}

// Block-wide best (value, id, owner thread) of every thread's offer; every thread gets it.
__device__ void block_best(float &v, int &id, int &owner, float *sh_v, int *sh_id, int *sh_owner) {
    for (int off = 16; off > 0; off >>= 1) {
        float v2 = __shfl_down_sync(0xffffffffu, v, off);
        int id2 = __shfl_down_sync(0xffffffffu, id, off);
        int o2 = __shfl_down_sync(0xffffffffu, owner, off);
        if (before(v2, id2, v, id)) { v = v2; id = id2; owner = o2; }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sh_v[warp] = v; sh_id[warp] = id; sh_owner[warp] = owner; }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < WARPS; ++w)
            if (before(sh_v[w], sh_id[w], sh_v[0], sh_id[0])) { sh_v[0] = sh_v[w]; sh_id[0] = sh_id[w]; sh_owner[0] = sh_owner[w]; }
    }
    __syncthreads();
    v = sh_v[0]; id = sh_id[0]; owner = sh_owner[0];
    __syncthreads();
}

// The block's best k of its threads' best k (each thread's `held`, best first): k rounds in
// which each thread offers its best not yet taken and the block's best is taken. Thread 0
// writes round r's to out_v[r], out_id[r] (-inf and -1 once the block's candidates run out).
__device__ void take_best_k(const float *top_v, const int *top_id, int held, int k, float *out_v, int *out_id,
                            float *sh_v, int *sh_id, int *sh_owner) {
    int next = 0;
    for (int r = 0; r < k; ++r) {
        float v = next < held ? top_v[next] : NEG_INF;
        int id = next < held ? top_id[next] : -1;
        int owner = threadIdx.x;
        block_best(v, id, owner, sh_v, sh_id, sh_owner);
        if (id >= 0 && owner == threadIdx.x) ++next;
        if (threadIdx.x == 0) { out_v[r] = v; out_id[r] = id; }
    }
}

extern "C" __global__ void top_k_partial(
    const float *__restrict__ logits,
    const unsigned long long *__restrict__ row_offsets,  // element offset of each row
    int vocab,
    const unsigned char *__restrict__ choosable,  // 1: the decoder may choose the token
    int choosable_len,
    int k,
    int chunk,  // elements per block
    float *__restrict__ part_m, float *__restrict__ part_s,  // [rows][chunks]
    float *__restrict__ part_v, int *__restrict__ part_id)   // [rows][chunks][k]
{
    __shared__ float sh_m[WARPS], sh_s[WARPS];
    __shared__ float sh_v[WARPS];
    __shared__ int sh_id[WARPS], sh_owner[WARPS];
    const int row = blockIdx.y, c = blockIdx.x, chunks = gridDim.x;
    const float *x = logits + row_offsets[row];
    const int begin = c * chunk;
    const int end = min(begin + chunk, vocab);

    float m = NEG_INF, s = 0.0f;
    float top_v[K_MAX];
    int top_id[K_MAX];
    int held = 0;
    for (int i = begin + threadIdx.x; i < end; i += THREADS) {
        float v = x[i];
        if (v > m) { s = s * expf(m - v) + 1.0f; m = v; }
        else if (v != NEG_INF) { s += expf(v - m); }
        if (i < choosable_len && choosable[i]) keep(v, i, top_v, top_id, held, k);
    }
    block_normaliser(m, s, sh_m, sh_s);
    const int part = row * chunks + c;
    if (threadIdx.x == 0) { part_m[part] = m; part_s[part] = s; }

    take_best_k(top_v, top_id, held, k, part_v + part * k, part_id + part * k, sh_v, sh_id, sh_owner);
}

extern "C" __global__ void top_k_merge(
    const float *__restrict__ part_m, const float *__restrict__ part_s,
    const float *__restrict__ part_v, const int *__restrict__ part_id,  // ids of -1: no token
    int chunks, int k,
    float *__restrict__ out_logprob, int *__restrict__ out_id)  // [rows][k]
{
    __shared__ float sh_m[WARPS], sh_s[WARPS];
    __shared__ float sh_v[WARPS];
    __shared__ int sh_id[WARPS], sh_owner[WARPS];
    const int row = blockIdx.x;
    float m = NEG_INF, s = 0.0f;
    for (int c = threadIdx.x; c < chunks; c += THREADS) combine(m, s, part_m[row * chunks + c], part_s[row * chunks + c]);
    block_normaliser(m, s, sh_m, sh_s);
    const float log_z = m + logf(s);

    // Each thread reads its share of the row's chunks' candidates once and keeps its best k,
    // as top_k_partial does with logits.
    const int n = chunks * k;
    const float *v_row = part_v + (size_t)row * n;
    const int *id_row = part_id + (size_t)row * n;
    float top_v[K_MAX];
    int top_id[K_MAX];
    int held = 0;
    for (int j = threadIdx.x; j < n; j += THREADS) {
        const float v = v_row[j];
        const int i = id_row[j];
        if (i >= 0) keep(v, i, top_v, top_id, held, k);
    }
    float *out_v = out_logprob + row * k;
    take_best_k(top_v, top_id, held, k, out_v, out_id + row * k, sh_v, sh_id, sh_owner);
    if (threadIdx.x == 0)
        for (int r = 0; r < k; ++r) out_v[r] = out_id[row * k + r] >= 0 ? out_v[r] - log_z : NEG_INF;
}
