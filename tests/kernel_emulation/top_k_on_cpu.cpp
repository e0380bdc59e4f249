// Runs the GPU top-k kernel (src/lm/gpu/top_k.cu), unchanged, on the CPU: one OS thread per
// CUDA thread, a barrier for __syncthreads, a per-warp exchange for __shfl_down_sync, blocks
// one after another. Checks it against top-k by the book on seeded rows (ties, -inf, a huge
// logit, masked tokens, masks shorter than rows, k up to the kernel's limit), so the kernel's
// logic is tested on machines without a GPU. Built and run by tests/gpu.rs.
//
//   g++ -std=c++20 -O1 -pthread tests/kernel_emulation/top_k_on_cpu.cpp -o /tmp/top_k_on_cpu
#include <algorithm>
#include <barrier>
#include <cmath>
#include <math.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

struct Dim3 { unsigned x = 0, y = 0, z = 0; };
static thread_local Dim3 emu_thread, emu_block;
static Dim3 emu_grid;
static std::barrier<> *emu_block_barrier = nullptr;
static std::vector<std::barrier<> *> emu_warp_barriers;
static unsigned long long emu_lanes[8][32];

#define threadIdx emu_thread
#define blockIdx emu_block
#define gridDim emu_grid
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
// One block runs at a time, so a function's static is its block's shared memory.
#define __shared__ static
#define __syncthreads() emu_block_barrier->arrive_and_wait()

static inline float __int_as_float(unsigned bits) { float f; std::memcpy(&f, &bits, 4); return f; }
using std::min;

template <typename T> static T __shfl_down_sync(unsigned, T value, int offset) {
    unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    unsigned long long bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    emu_lanes[warp][lane] = bits;
    emu_warp_barriers[warp]->arrive_and_wait();
    T out = value;
    if (lane + offset < 32) std::memcpy(&out, &emu_lanes[warp][lane + offset], sizeof(T));
    emu_warp_barriers[warp]->arrive_and_wait();
    return out;
}

#include "../../src/lm/gpu/top_k.cu"

static void launch(Dim3 grid, const std::function<void()> &kernel) {
    emu_grid = grid;
    for (unsigned y = 0; y < grid.y; ++y)
        for (unsigned x = 0; x < grid.x; ++x) {
            std::barrier<> block(THREADS);
            emu_block_barrier = &block;
            std::vector<std::thread> threads;
            for (unsigned t = 0; t < THREADS; ++t)
                threads.emplace_back([&, t] { emu_thread = {t, 0, 0}; emu_block = {x, y, 0}; kernel(); });
            for (auto &th : threads) th.join();
        }
}

static uint64_t state = 42;
static float uniform() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)(state >> 40) / (float)(1ULL << 24);
}

// The same chunking as Gpu::chunk in src/lm/gpu/mod.rs, for a device of `sms` multiprocessors.
static int chunk_for(int rows, int vocab, int sms) {
    int want = std::max(1, (2 * sms + rows - 1) / rows);
    int per = std::max((vocab + want - 1) / want, 4 * THREADS);
    return (per + THREADS - 1) / THREADS * THREADS;
}

static int check(int vocab, int rows, int k, int mask_len, int sms) {
    std::vector<float> logits((size_t)rows * vocab);
    for (auto &v : logits) v = uniform() * 20.0f - 10.0f;
    logits[5] = 12.0f;
    logits[vocab / 2] = 12.0f;  // a tie with token 5
    if (rows > 1) { logits[vocab + 1] = NEG_INF; logits[vocab + 9] = 80.0f; }
    if (rows > 2) for (int i = 0; i < vocab; ++i) logits[2 * (size_t)vocab + i] = (i % 3) ? 1.0f : NEG_INF;  // many ties
    std::vector<unsigned char> mask(mask_len);
    for (int i = 0; i < mask_len; ++i) mask[i] = (i % 7) != 3;
    std::vector<unsigned long long> offsets(rows);
    for (int r = 0; r < rows; ++r) offsets[r] = (unsigned long long)r * vocab;
    int chunk = chunk_for(rows, vocab, sms), chunks = (vocab + chunk - 1) / chunk;
    std::vector<float> pm(rows * chunks), ps(rows * chunks), pv(rows * chunks * k), lp(rows * k);
    std::vector<int> pid(rows * chunks * k), id(rows * k);
    launch({(unsigned)chunks, (unsigned)rows, 1}, [&] {
        top_k_partial(logits.data(), offsets.data(), vocab, mask.data(), mask_len, k, chunk, pm.data(), ps.data(), pv.data(), pid.data());
    });
    launch({(unsigned)rows, 1, 1}, [&] { top_k_merge(pm.data(), ps.data(), pv.data(), pid.data(), chunks, k, lp.data(), id.data()); });
    int failures = 0;
    for (int r = 0; r < rows; ++r) {
        const float *x = &logits[(size_t)r * vocab];
        double mx = -INFINITY;
        for (int i = 0; i < vocab; ++i) mx = std::max(mx, (double)x[i]);
        double sum = 0;
        for (int i = 0; i < vocab; ++i) sum += std::exp((double)x[i] - mx);
        double log_z = mx + std::log(sum);
        std::vector<std::pair<double, int>> all;
        for (int i = 0; i < std::min(vocab, mask_len); ++i)
            if (mask[i]) all.push_back({(double)x[i] - log_z, i});
        std::sort(all.begin(), all.end(), [](auto a, auto b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
        for (int j = 0; j < k; ++j) {
            int want = j < (int)all.size() ? all[j].second : -1;
            int got = id[r * k + j];
            bool lp_ok = want < 0 || std::fabs(lp[r * k + j] - all[j].first) < 1e-4 || (std::isinf(all[j].first) && std::isinf(lp[r * k + j]));
            if (got != want || !lp_ok) {
                if (failures < 10)
                    std::printf("MISMATCH vocab %d rows %d k %d mask %d sms %d: row %d place %d: got %d (%g), want %d (%g)\n", vocab, rows, k, mask_len, sms, r, j, got,
                                lp[r * k + j], want, want < 0 ? 0.0 : all[j].first);
                ++failures;
            }
        }
    }
    return failures;
}

int main() {
    struct Case { int vocab, rows, k, mask_len, sms; };
    // Few blocks each (a block is 256 OS threads here), but several chunks per row, so that
    // the merge across chunks is exercised.
    const Case cases[] = {
        {4096, 1, 20, 4089, 4}, {4096, 3, 5, 4096, 2}, {50257, 2, 20, 50250, 4}, {151936, 2, 64, 151929, 3},
        {151936, 1, 1, 151936, 1}, {300, 3, 64, 293, 132}, {1000, 3, 64, 2000, 2}, {5000, 2, 7, 100, 8}, {20, 3, 64, 20, 132},
        // 20 and 16 chunks a row: more candidates than the merge has threads, so each thread
        // keeps several, from several chunks.
        {151936, 1, 64, 151929, 10}, {50257, 2, 20, 50257, 16},
    };
    for (int w = 0; w < 8; ++w) emu_warp_barriers.push_back(new std::barrier<>(32));
    int failures = 0;
    for (const Case &c : cases) {
        int f = check(c.vocab, c.rows, c.k, c.mask_len, c.sms);
        std::printf("vocab %6d rows %d k %2d mask %6d sms %3d: %s\n", c.vocab, c.rows, c.k, c.mask_len, c.sms, f ? "FAILED" : "ok");
        failures += f;
    }
    std::printf(failures ? "FAILED: %d mismatches\n" : "all agree\n", failures);
    return failures ? 1 : 0;
}
