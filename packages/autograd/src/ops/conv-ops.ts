import type { WindowGeometry } from '../backend/backend.js';
import { isGradEnabled, noGrad } from '../grad-mode.js';
import type { Tensor } from '../tensor.js';
import { fromStorage } from '../tensor-internal.js';
import { apply } from './apply.js';
import { fold2d, unfold2d } from './shape-ops.js';
import { defineOp, type OpSpec } from './spec.js';

/**
 * conv2d with groups 1 as one op over an already padded image x [N, C, H, W], weight [O, C, kh, kw]
 * and an optional bias [O] (absent: the op has two inputs). It computes what unfold2d (channels
 * first), one matmul [O, C·kh·kw] × [C·kh·kw, N·oh·ow], the permutation to [N, O, oh, ow] and the
 * bias addition compute, with the same kernels in the same order, so the values are the same; on
 * a backend with the fused kernels (CPU float32) the windows matrix then never becomes a tensor.
 * Elsewhere, and for a differentiable backward (createGraph), it runs that composition.
 *
 * It saves what the matmul saved, in the same roles: the weight for x's gradient and x for the
 * weight's. Callers pass a private copy of the image (nn.conv2d clones it), as the matmul saved
 * the windows, a copy, so that changing the image in place after the forward stays allowed.
 */
function composedForward(x: Tensor, w: Tensor, b: Tensor | null, g: WindowGeometry): Tensor {
  const [n] = x.shape;
  const [o, c, kh, kw] = w.shape;
  const [oh, ow] = g.out;
  const k = c * kh * kw;
  const cols = unfold2d(x, { ...g, channelsFirst: true }).reshape([k, n * oh * ow]);
  const yt = w.reshape([o, k]).matmul(cols).reshape([o, n, oh, ow]).permute(1, 0, 2, 3);
  // [O, N, oh, ow] → [N, O, oh, ow], made contiguous (as PyTorch's output is) by the bias add, or a copy.
  return b ? yt.add(b.reshape([1, o, 1, 1])) : yt.clone();
}

export const convOps = {
  conv2d: defineOp<WindowGeometry>({
    name: 'conv2d',
    inputs: ['self', 'weight', 'bias'],
    saves: { self: ['weight'], weight: ['self'] },
    forward: (inputs, g) => {
      const [x, w] = inputs;
      const b = inputs.length > 2 ? inputs[2] : null;
      const backend = x.storage.backend;
      if (backend.conv2dForward && x.dtype === w.dtype && (!b || b.dtype === x.dtype)) {
        const y = backend.conv2dForward(x, w, b, g);
        if (y) return fromStorage(y, [x.shape[0], w.shape[0], g.out[0], g.out[1]]);
      }
      return noGrad(() => composedForward(x, w, b, g));
    },
    backward: (grad, ctx) => {
      const g = ctx.attrs;
      const [xShape, wShape] = ctx.inputShapes;
      const [needX, needW] = ctx.needs;
      // The bias's gradient as the composition's add computed it: one sum over (N, oh, ow).
      const db = ctx.needs.length > 2 && ctx.needs[2] ? grad.sum([0, 2, 3]) : null;
      const x = needW ? ctx.unpack('self') : null;
      const w = needX ? ctx.unpack('weight') : null;
      const backend = grad.storage.backend;
      if (!isGradEnabled() && backend.conv2dBackward && (x ?? w)?.dtype === grad.dtype && (!x || !w || x.dtype === w.dtype)) {
        const r = backend.conv2dBackward(grad, x, w, xShape, g);
        if (r) {
          const [dx, dw] = r;
          return [dx ? fromStorage(dx, xShape) : null, dw ? fromStorage(dw, wShape) : null, db];
        }
      }
      const [n, c] = xShape;
      const [o, , kh, kw] = wShape;
      const [oh, ow] = g.out;
      const k = c * kh * kw;
      const g2 = grad.permute(1, 0, 2, 3).reshape([o, n * oh * ow]);
      const dw = x
        ? g2
            .matmul(
              unfold2d(x, { ...g, channelsFirst: true })
                .reshape([k, n * oh * ow])
                .transpose(0, 1),
            )
            .reshape(wShape)
        : null;
      const dx = w
        ? fold2d(
            w
              .reshape([o, k])
              .transpose(0, 1)
              .matmul(g2)
              .reshape([c, kh * kw, n, oh, ow])
              .permute(2, 0, 1, 3, 4),
            g,
          )
        : null;
      return [dx, dw, db];
    },
  }),
} satisfies Record<string, OpSpec>;

/** y [N, O, oh, ow] of the padded image `x` (a private copy: it is saved), `weight` and an optional `bias`. */
export function conv2dOp(x: Tensor, weight: Tensor, bias: Tensor | null, g: WindowGeometry): Tensor {
  return apply(convOps.conv2d, bias ? [x, weight, bias] : [x, weight], g);
}
