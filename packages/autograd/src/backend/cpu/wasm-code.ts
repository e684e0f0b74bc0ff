/**
 * The WebAssembly SIMD (f32x4) kernels, written as code against wasm-encoder.ts and emitted at
 * load time (wasm-runtime.ts instantiates them; wasm-gemm.ts and wasm-optim.ts drive them).
 *
 * GEMM: `tilesSet` / `tilesAdd` multiply packed blocks: A in panels of MR rows ([kc][MR] floats
 * per panel), B in panels of NR = 8 columns ([kc][8] floats per panel), storing (first k block) or
 * adding (later ones) each MR x 8 product tile into a zero-padded row-major C. The micro-kernel
 * keeps the tile in 2·MR v128 locals (registers) for the whole k loop: per k it loads two B
 * vectors and MR splatted A values — all with constant offsets from two pointers — and issues
 * 2·MR multiply-adds. Padding every panel with zeros means the wasm code has no edge cases.
 *
 * Optimizers: `adam`, `sgd`, `sgdMomentum` stream groups of 4 floats (callers zero-pad the tail).
 * Element-wise: `add2d`, `sub2d`, `mul2d`, `div2d` and `copy2d` over planes of strided 2-D windows.
 * Every loop is a do-while: callers guarantee at least one iteration.
 *
 * The module is well under 4 KiB, the size Chrome allows to compile synchronously on the main
 * thread.
 */
import { Body, encodeModule, F32, I32, op, simd, V128 } from './wasm-encoder.js';

/**
 * Micro-tile rows. TurboFan hoists the MR splat loads of a k step ahead of the arithmetic, so a
 * step needs 2·MR accumulators + 2 B vectors + MR splats live: with MR = 4 that is 14 of the 15
 * xmm registers it allocates. MR = 6, or unrolling k by 2, spilled accumulators to the stack and
 * ran at ~20 GFLOP/s instead of ~35 here (checked with node --print-wasm-code). Do not unroll.
 */
export const MR = 4; // wasm-gemm.ts packA unrolls full panels for exactly 4 rows
export const NR = 8;

/** `accumulate`: C += tile (later k blocks); otherwise C = tile (the first, so C needs no zeroing). */
function tilesFunction(accumulate: boolean): Body {
  // params: 0 ap, 1 bp, 2 cp, 3 mPanels, 4 nPanels, 5 kc, 6 ldc (bytes)
  const [AP, BP, CP, M_PANELS, N_PANELS, KC_, LDC] = [0, 1, 2, 3, 4, 5, 6];
  const [JP, IP, KK, A, B, C] = [7, 8, 9, 10, 11, 12];
  const ACC = 13; // ACC .. ACC + 2·MR - 1
  const B0 = ACC + 2 * MR,
    B1 = B0 + 1,
    S = B0 + 2;
  const f = new Body();
  const inc = (local: number, by: number | (() => void)): void => {
    f.get(local);
    if (typeof by === 'number') f.i32(by);
    else by();
    f.emit(op.i32Add).set(local);
  };
  f.i32(0).set(JP);
  f.doWhile(
    () => {
      f.i32(0).set(IP);
      f.doWhile(
        () => {
          // a = ap + ip·kc·MR·4; b = bp + jp·kc·32
          f.get(AP)
            .get(IP)
            .get(KC_)
            .emit(op.i32Mul)
            .i32(MR * 4)
            .emit(op.i32Mul)
            .emit(op.i32Add)
            .set(A);
          f.get(BP)
            .get(JP)
            .get(KC_)
            .emit(op.i32Mul)
            .i32(NR * 4)
            .emit(op.i32Mul)
            .emit(op.i32Add)
            .set(B);
          for (let r = 0; r < 2 * MR; r++) f.simd(simd.v128Const, ...new Array<number>(16).fill(0)).set(ACC + r);
          f.get(KC_).set(KK);
          f.doWhile(
            () => {
              f.get(B).mem(simd.v128Load, 4, 0).set(B0);
              f.get(B).mem(simd.v128Load, 4, 16).set(B1);
              for (let r = 0; r < MR; r++) {
                f.get(A)
                  .mem(simd.v128Load32Splat, 2, 4 * r)
                  .set(S);
                for (const [acc, bv] of [
                  [ACC + 2 * r, B0],
                  [ACC + 2 * r + 1, B1],
                ]) {
                  f.get(acc).get(S).get(bv).simd(simd.f32x4Mul).simd(simd.f32x4Add).set(acc);
                }
              }
              inc(A, MR * 4);
              inc(B, NR * 4);
            },
            () => f.get(KK).i32(1).emit(op.i32Sub).tee(KK),
          );
          // c = cp + ip·MR·ldc + jp·32; C[r] (+)= acc[r] row by row.
          f.get(CP)
            .get(IP)
            .i32(MR)
            .emit(op.i32Mul)
            .get(LDC)
            .emit(op.i32Mul)
            .emit(op.i32Add)
            .get(JP)
            .i32(NR * 4)
            .emit(op.i32Mul)
            .emit(op.i32Add)
            .set(C);
          for (let r = 0; r < MR; r++) {
            for (const half of [0, 1]) {
              f.get(C);
              if (accumulate)
                f.get(C)
                  .mem(simd.v128Load, 4, 16 * half)
                  .get(ACC + 2 * r + half)
                  .simd(simd.f32x4Add);
              else f.get(ACC + 2 * r + half);
              f.mem(simd.v128Store, 4, 16 * half);
            }
            inc(C, () => f.get(LDC));
          }
          inc(IP, 1);
        },
        () => f.get(IP).get(M_PANELS).emit(op.i32LtU),
      );
      inc(JP, 1);
    },
    () => f.get(JP).get(N_PANELS).emit(op.i32LtU),
  );
  return f;
}

/**
 * Adam over n4 groups of 4 floats at byte offsets p, g, m, v (float32 throughout, as PyTorch's
 * CPU Adam computes): m = β₁m + (1-β₁)g; v = β₂v + (1-β₂)g²; p = p·decay - step·m / (√v·inv + ε),
 * where decay is AdamW's 1 - lr·λ (1 for Adam) and inv = 1/√(1-β₂ᵗ).
 */
function adamFunction(): Body {
  // params: 0 p, 1 g, 2 m, 3 v, 4 n4 (i32); 5 β₁, 6 β₂, 7 1-β₁, 8 1-β₂, 9 step, 10 inv, 11 ε, 12 decay (f32)
  const [P, G, M, V, N4] = [0, 1, 2, 3, 4];
  const SCALARS = 5; // 8 f32 params, splatted into v128 locals SPLAT .. SPLAT + 7
  const SPLAT = 13;
  const [B1, B2, C1, C2, STEP, INV, EPS, DECAY] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => SPLAT + i);
  const [GV, MV, VV] = [SPLAT + 8, SPLAT + 9, SPLAT + 10];
  const f = new Body();
  for (let i = 0; i < 8; i++)
    f.get(SCALARS + i)
      .simd(simd.f32x4Splat)
      .set(SPLAT + i);
  const mul = (): Body => f.simd(simd.f32x4Mul);
  const add = (): Body => f.simd(simd.f32x4Add);
  f.doWhile(
    () => {
      f.get(G).mem(simd.v128Load, 4, 0).set(GV);
      f.get(M).get(B1).get(M).mem(simd.v128Load, 4, 0);
      mul().get(C1).get(GV);
      mul();
      add().tee(MV).mem(simd.v128Store, 4, 0);
      f.get(V).get(B2).get(V).mem(simd.v128Load, 4, 0);
      mul().get(C2).get(GV);
      mul().get(GV);
      mul();
      add().tee(VV).mem(simd.v128Store, 4, 0);
      f.get(P).get(P).mem(simd.v128Load, 4, 0).get(DECAY);
      mul().get(STEP).get(MV);
      mul().get(VV).simd(simd.f32x4Sqrt).get(INV);
      mul().get(EPS);
      add().simd(simd.f32x4Div).simd(simd.f32x4Sub).mem(simd.v128Store, 4, 0);
      for (const ptr of [P, G, M, V]) f.get(ptr).i32(16).emit(op.i32Add).set(ptr);
    },
    () => f.get(N4).i32(1).emit(op.i32Sub).tee(N4),
  );
  return f;
}

/**
 * SGD without weight decay over n4 groups of 4 floats at byte offsets p, g, b: plain (p -= lr·g)
 * when `momentum` is false, else b = μb + (1-τ)g; p -= lr·b (not the first step, not Nesterov).
 */
function sgdFunction(momentum: boolean): Body {
  // params: 0 p, 1 g, 2 b, 3 n4 (i32); 4 lr, 5 μ, 6 1-τ (f32)
  const [P, G, BUF, N4, LR, MU, DAMP] = [0, 1, 2, 3, 4, 5, 6];
  const [LRV, MUV, DAMPV, DV] = [7, 8, 9, 10];
  const f = new Body();
  f.get(LR).simd(simd.f32x4Splat).set(LRV);
  f.get(MU).simd(simd.f32x4Splat).set(MUV);
  f.get(DAMP).simd(simd.f32x4Splat).set(DAMPV);
  f.doWhile(
    () => {
      if (momentum) {
        f.get(BUF)
          .get(MUV)
          .get(BUF)
          .mem(simd.v128Load, 4, 0)
          .simd(simd.f32x4Mul)
          .get(DAMPV)
          .get(G)
          .mem(simd.v128Load, 4, 0)
          .simd(simd.f32x4Mul)
          .simd(simd.f32x4Add)
          .tee(DV)
          .mem(simd.v128Store, 4, 0);
      } else {
        f.get(G).mem(simd.v128Load, 4, 0).set(DV);
      }
      f.get(P).get(P).mem(simd.v128Load, 4, 0).get(LRV).get(DV).simd(simd.f32x4Mul).simd(simd.f32x4Sub).mem(simd.v128Store, 4, 0);
      for (const ptr of [P, G, BUF]) f.get(ptr).i32(16).emit(op.i32Add).set(ptr);
    },
    () => f.get(N4).i32(1).emit(op.i32Sub).tee(N4),
  );
  return f;
}

export const BINARY_2D_OPS = { add: op.f32Add, sub: op.f32Sub, mul: op.f32Mul, div: op.f32Div } as const;
/** The f32x4 form of each of BINARY_2D_OPS. */
const BINARY_2D_SIMD: Record<keyof typeof BINARY_2D_OPS, number> = {
  add: simd.f32x4Add,
  sub: simd.f32x4Sub,
  mul: simd.f32x4Mul,
  div: simd.f32x4Div,
};

/**
 * out[q, i, j] = a[q, i, j] OP b[q, i, j] over `planes` stacked rows x cols windows, every operand
 * addressed by byte offset and byte strides (out: plane and row stride, elements 4 bytes apart).
 * Scalar f32: arbitrary strides (transposed, broadcast) rule out vector loads, but even so it beats
 * JS, which converts every float32 element to float64 and back. The plane loop lets one call cover
 * a 3-D walk (a convolution's permuted output plus its bias, col2im over a batch), where a call per
 * window cost more in JS-to-wasm transitions than the arithmetic. f32 arithmetic on f32 inputs
 * rounds exactly as JS's float64 arithmetic rounded to float32 does, so results are bit-identical.
 */
function binary2dFunction(opcode: number, simdOpcode: number): Body {
  // params: 0 out, 1 outRow, 2 a, 3 aRow, 4 aCol, 5 b, 6 bRow, 7 bCol, 8 rows, 9 cols,
  // 10 planes, 11 outPlane, 12 aPlane, 13 bPlane
  const [OUT, OUT_ROW, A, A_ROW, A_COL, B, B_ROW, B_COL, ROWS, COLS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [PLANES, OUT_PLANE, A_PLANE, B_PLANE] = [10, 11, 12, 13];
  const [PO, PA, PB, C, RO, RA, RB, R] = [14, 15, 16, 17, 18, 19, 20, 21];
  const f = new Body();
  const add = (local: number, by: () => void): void => {
    f.get(local);
    by();
    f.emit(op.i32Add).set(local);
  };
  f.doWhile(
    () => {
      f.get(OUT).set(RO).get(A).set(RA).get(B).set(RB).get(ROWS).set(R);
      f.doWhile(
        () => {
          f.get(RO).set(PO).get(RA).set(PA).get(RB).set(PB).get(COLS).set(C);
          // a's columns adjacent, b's adjacent (col2im) or one value per row (a bias): four
          // lanes per step; f32x4 lanes round as the scalar f32 operation does.
          for (const bCol of [4, 0]) {
            f.ifThen(
              () => f.get(A_COL).i32(4).emit(op.i32Eq).get(B_COL).i32(bCol).emit(op.i32Eq).emit(op.i32And),
              () =>
                f.whileDo(
                  () => f.get(C).i32(3).emit(op.i32GtU),
                  () => {
                    f.get(PO).get(PA).mem(simd.v128Load, 0, 0).get(PB);
                    if (bCol === 4) f.mem(simd.v128Load, 0, 0);
                    else f.mem(simd.v128Load32Splat, 0, 0);
                    f.simd(simdOpcode).mem(simd.v128Store, 0, 0);
                    add(PO, () => f.i32(16));
                    add(PA, () => f.i32(16));
                    add(PB, () => f.i32(bCol * 4));
                    f.get(C).i32(4).emit(op.i32Sub).set(C);
                  },
                ),
            );
          }
          f.whileDo(
            () => f.get(C),
            () => {
              f.get(PO).get(PA).emit(op.f32Load, 2, 0).get(PB).emit(op.f32Load, 2, 0).emit(opcode).emit(op.f32Store, 2, 0);
              add(PO, () => f.i32(4));
              add(PA, () => f.get(A_COL));
              add(PB, () => f.get(B_COL));
              f.get(C).i32(1).emit(op.i32Sub).set(C);
            },
          );
          add(RO, () => f.get(OUT_ROW));
          add(RA, () => f.get(A_ROW));
          add(RB, () => f.get(B_ROW));
        },
        () => f.get(R).i32(1).emit(op.i32Sub).tee(R),
      );
      add(OUT, () => f.get(OUT_PLANE));
      add(A, () => f.get(A_PLANE));
      add(B, () => f.get(B_PLANE));
    },
    () => f.get(PLANES).i32(1).emit(op.i32Sub).tee(PLANES),
  );
  return f;
}

/**
 * GEMM B packing for a B with unit column stride (rows of contiguous floats, e.g. the windows of a
 * convolution): `panels` full 8-column panels, each [kc][8] floats at dst, panel p read from
 * src + 32·p bytes, row kk at + kk·rowStride bytes. Two v128 copies per row: no float conversions.
 */
function packB8Function(): Body {
  // params: 0 dst, 1 src, 2 rowStride (bytes), 3 kc, 4 panels
  const [DST, SRC, RS, KC_, PANELS] = [0, 1, 2, 3, 4];
  const [S, KK] = [5, 6];
  const f = new Body();
  f.doWhile(
    () => {
      f.get(SRC).set(S).get(KC_).set(KK);
      f.doWhile(
        () => {
          f.get(DST).get(S).mem(simd.v128Load, 0, 0).mem(simd.v128Store, 0, 0);
          f.get(DST).get(S).mem(simd.v128Load, 0, 16).mem(simd.v128Store, 0, 16);
          f.get(DST).i32(32).emit(op.i32Add).set(DST);
          f.get(S).get(RS).emit(op.i32Add).set(S);
        },
        () => f.get(KK).i32(1).emit(op.i32Sub).tee(KK),
      );
      f.get(SRC).i32(32).emit(op.i32Add).set(SRC);
    },
    () => f.get(PANELS).i32(1).emit(op.i32Sub).tee(PANELS),
  );
  return f;
}

/**
 * GEMM B packing for a transposed B (unit row stride: B's columns are contiguous, as the windows'
 * transpose in a convolution's weight gradient): `panels` full 8-column panels, panel p's column t
 * read from src + (8p + t)·colStride bytes, row kk at + 4·kk.
 */
function packBT8Function(): Body {
  // params: 0 dst, 1 src, 2 colStride (bytes), 3 kc, 4 panels
  const [DST, SRC, CS, KC_, PANELS] = [0, 1, 2, 3, 4];
  const [S, KK, T, Q] = [5, 6, 7, 8];
  const f = new Body();
  f.doWhile(
    () => {
      f.get(SRC).set(S).get(KC_).set(KK);
      f.doWhile(
        () => {
          // dst[0..7] = S[t·colStride] for t < 8
          f.get(S).set(Q).i32(8).set(T);
          f.doWhile(
            () => {
              f.get(DST).get(Q).emit(op.f32Load, 2, 0).emit(op.f32Store, 2, 0);
              f.get(DST).i32(4).emit(op.i32Add).set(DST);
              f.get(Q).get(CS).emit(op.i32Add).set(Q);
            },
            () => f.get(T).i32(1).emit(op.i32Sub).tee(T),
          );
          f.get(S).i32(4).emit(op.i32Add).set(S);
        },
        () => f.get(KK).i32(1).emit(op.i32Sub).tee(KK),
      );
      // next panel: 8 columns further
      f.get(SRC).get(CS).i32(8).emit(op.i32Mul).emit(op.i32Add).set(SRC);
    },
    () => f.get(PANELS).i32(1).emit(op.i32Sub).tee(PANELS),
  );
  return f;
}

/**
 * out[q, i, j] = a[q, i, j] over `planes` stacked rows x cols windows (byte offsets and strides;
 * out's elements 4 bytes apart): a strided copy without JS's float32 → float64 → float32 round
 * trip. im2col moves a channel's kernel offset for every image of the batch in one call (planes =
 * images): a call per image and offset cost more in JS-to-wasm transitions than the copying.
 */
function copy2dFunction(): Body {
  // params: 0 out, 1 outRow, 2 a, 3 aRow, 4 aCol, 5 rows, 6 cols, 7 planes, 8 outPlane, 9 aPlane
  const [OUT, OUT_ROW, A, A_ROW, A_COL, ROWS, COLS, PLANES, OUT_PLANE, A_PLANE] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [PO, PA, C, RO, RA, R] = [10, 11, 12, 13, 14, 15];
  const f = new Body();
  f.doWhile(
    () => {
      f.get(OUT).set(RO).get(A).set(RA).get(ROWS).set(R);
      f.doWhile(
        () => {
          f.get(RO).set(PO).get(RA).set(PA).get(COLS).set(C);
          // Adjacent source columns (im2col of a stride-1 convolution): four floats per v128 copy.
          f.ifThen(
            () => f.get(A_COL).i32(4).emit(op.i32Eq),
            () =>
              f.whileDo(
                () => f.get(C).i32(3).emit(op.i32GtU),
                () => {
                  f.get(PO).get(PA).mem(simd.v128Load, 0, 0).mem(simd.v128Store, 0, 0);
                  f.get(PO).i32(16).emit(op.i32Add).set(PO);
                  f.get(PA).i32(16).emit(op.i32Add).set(PA);
                  f.get(C).i32(4).emit(op.i32Sub).set(C);
                },
              ),
          );
          f.whileDo(
            () => f.get(C),
            () => {
              f.get(PO).get(PA).emit(op.f32Load, 2, 0).emit(op.f32Store, 2, 0);
              f.get(PO).i32(4).emit(op.i32Add).set(PO);
              f.get(PA).get(A_COL).emit(op.i32Add).set(PA);
              f.get(C).i32(1).emit(op.i32Sub).set(C);
            },
          );
          f.get(RO).get(OUT_ROW).emit(op.i32Add).set(RO);
          f.get(RA).get(A_ROW).emit(op.i32Add).set(RA);
        },
        () => f.get(R).i32(1).emit(op.i32Sub).tee(R),
      );
      f.get(OUT).get(OUT_PLANE).emit(op.i32Add).set(OUT);
      f.get(A).get(A_PLANE).emit(op.i32Add).set(A);
    },
    () => f.get(PLANES).i32(1).emit(op.i32Sub).tee(PLANES),
  );
  return f;
}

/** The module: exported memory, the two gemm tile functions, Adam, SGD and the 2-D binary ops. */
export function kernelModuleBytes(): Uint8Array<ArrayBuffer> {
  const tileLocals = [...new Array<number>(6).fill(I32), ...new Array<number>(2 * MR + 3).fill(V128)];
  const tileParams = new Array<number>(7).fill(I32);
  return encodeModule(
    [
      { name: 'tilesAdd', params: tileParams, locals: tileLocals, body: tilesFunction(true) },
      { name: 'tilesSet', params: tileParams, locals: tileLocals, body: tilesFunction(false) },
      {
        name: 'adam',
        params: [...new Array<number>(5).fill(I32), ...new Array<number>(8).fill(F32)],
        locals: new Array<number>(11).fill(V128),
        body: adamFunction(),
      },
      ...[false, true].map((momentum) => ({
        name: momentum ? 'sgdMomentum' : 'sgd',
        params: [I32, I32, I32, I32, F32, F32, F32],
        locals: new Array<number>(4).fill(V128),
        body: sgdFunction(momentum),
      })),
      { name: 'packB8', params: [I32, I32, I32, I32, I32], locals: [I32, I32], body: packB8Function() },
      { name: 'packBT8', params: [I32, I32, I32, I32, I32], locals: [I32, I32, I32, I32], body: packBT8Function() },
      { name: 'copy2d', params: new Array<number>(10).fill(I32), locals: new Array<number>(6).fill(I32), body: copy2dFunction() },
      ...Object.entries(BINARY_2D_OPS).map(([name, opcode]) => ({
        name: `${name}2d`,
        params: new Array<number>(14).fill(I32),
        locals: new Array<number>(8).fill(I32),
        body: binary2dFunction(opcode, BINARY_2D_SIMD[name as keyof typeof BINARY_2D_OPS]),
      })),
    ],
    1,
  );
}
