/**
 * How far a float32 run of the nanoGPT port may stray from PyTorch's float64 reference
 * (scripts/reference/nanogpt.json), as max |ours - ref| / max |ref| per recorded quantity
 * (`deviations()` in reference-run.ts; for norms, |ours/ref - 1| per parameter).
 *
 * Where the bounds come from. float32 rounds each operation to u = 2^-24 ≈ 6e-8 relative. The
 * longest reductions here are dot products of K ≤ 64 terms (n_embd 16, MLP 4·16, vocab 58,
 * 4·16 batch rows per weight gradient), and a backend may sum them in any order (blocked SIMD GEMM
 * on the CPU, workgroup trees on WebGPU): the worst-case bound K·u ≈ 4e-6 per product, typically
 * √K·u ≈ 5e-7, compounding over the ~10 dependent layers of a forward+backward.
 * - before any update (step-0 gradients, the first losses) nothing else enters: 5e-6;
 * - after 20 AdamW steps the two runs' parameters have drifted apart by their rounding, and Adam
 *   amplifies it: its update m̂/(√v̂+ε) is scale-free, so an element whose gradient is near the
 *   rounding level moves by up to ±lr whatever its size, and later gradients see the moved
 *   weights. PyTorch's float32 run shows the size of that drift here: 1e-6 to 4e-6 (the JSON's
 *   float32Deviation). The one-step loss changes are 1e-2 to 1e-1, so the loss curve stays pinned
 *   at 2e-5; last-step gradients, total norms and per-parameter gradient norms get 1e-4 (the brief's
 *   "1e-3 after 20 Adam steps" is looser than needed), parameters and their norms 5e-5.
 * - the learning rate is exact double arithmetic on both sides; the JSON keeps 9 digits: 1e-8.
 *
 * Measured on 2026-12-06 (`npx vitest run test/nanogpt`; PyTorch float32 vs float64: the JSON's
 * float32Deviation): every quantity is at least 14× inside its bound for PyTorch's float32 run
 * (per-parameter norms: 3.4e-6 vs 5e-5), at least 20× on the CPU and at least 20× on SwiftShader's
 * WebGPU (parameters: 2.2e-6 vs 5e-5). The test also checks that PyTorch's own float32 run passes
 * the same bounds: a correct float32 implementation must. The init makes GELU's inputs of order 1
 * (nanogpt.py): checked, swapping the exact GELU for its tanh form fails step-0 gradients by 100×.
 */
export const TOLERANCES: Readonly<Record<string, number>> = {
  lr: 1e-8,
  microLosses: 2e-5,
  eval: 2e-5,
  gradsStep0: 5e-6,
  gradNormsStep0: 5e-6,
  gradNorm: 1e-4,
  gradsLast: 1e-4,
  gradNormsLast: 1e-4,
  params: 5e-5,
  paramNorms: 5e-5,
};
