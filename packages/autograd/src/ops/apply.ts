import { Node, type Edge, type SavedTensor } from '../autograd/node.js';
import { fail } from '../errors.js';
import { isGradEnabled, noGrad } from '../grad-mode.js';
import { hasNoGradCutObservers, noGradCut } from '../observe.js';
import { fmtShape, shapeEq } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpSpec } from './spec.js';
import { moveToNode, writeFrom } from '../tensor-internal.js';

export function checkSameDevice(op: string, inputs: readonly Tensor[]): void {
  const first = inputs[0];
  for (const t of inputs) {
    if (t.device !== first.device) {
      fail(
        'DEVICE_MISMATCH',
        `${op}: expected all tensors on the same device, got ${first.device} ${fmtShape(first.shape)} and ${t.device} ${fmtShape(t.shape)}. Move one with .to('${first.device}') (or .to('${t.device}')).`,
      );
    }
  }
}

function edgeOf(t: Tensor): Edge {
  if (t.gradFn) return { node: t.gradFn };
  return t.requiresGrad ? { leaf: t } : null;
}

/**
 * Runs an op: computes the forward and, in grad mode, records a node with what the op saves.
 * Under noGrad, `cutFrom` (the inputs by default) are reported as cut: their values flow on
 * without a graph. An in-place update passes only the values it reads, not the tensor it writes.
 */
export function apply(spec: OpSpec, inputs: readonly Tensor[], attrs?: unknown, cutFrom: readonly Tensor[] = inputs): Tensor {
  checkSameDevice(spec.name, inputs);
  const out = spec.forward(inputs, attrs);
  if (!isGradEnabled()) {
    if (hasNoGradCutObservers()) noGradCut(out, cutFrom);
    return out;
  }
  const needs = inputs.map((t) => t.requiresGrad);
  if (!needs.some(Boolean)) return out;
  const saved: SavedTensor[] = [];
  spec.inputs.forEach((inputName, i) => {
    if (!needs[i]) return;
    for (const name of spec.saves[inputName] ?? []) {
      if (saved.some((s) => s.name === name)) continue;
      const index = spec.inputs.indexOf(name);
      const tensor = name === 'result' ? out : inputs[index];
      saved.push({ name, tensor, version: tensor.version });
    }
  });
  out.gradFn = new Node(
    spec,
    inputs.map(edgeOf),
    saved,
    attrs,
    inputs.map((t) => t.shape),
    needs,
  );
  return out;
}

/**
 * In-place op as PyTorch records it: compute the out-of-place result, write it into `self`, bump
 * the version counter, and move `self` onto the new node. If the op saves `self` we feed it a
 * clone, since the original values are about to be overwritten.
 */
export function applyInplace(spec: OpSpec, self: Tensor, others: readonly Tensor[], attrs?: unknown): Tensor {
  checkSameDevice(`${spec.name}_`, [self, ...others]);
  const recording = isGradEnabled() && (self.requiresGrad || others.some((t) => t.requiresGrad));
  if (isGradEnabled() && self.requiresGrad) {
    const leafBase = self.isLeaf ? self : self.viewBase?.isLeaf ? self.viewBase : null;
    if (leafBase?.requiresGrad) {
      fail(
        'LEAF_INPLACE',
        `${leafBase === self ? 'a leaf tensor' : 'a view of a leaf tensor'} that requires grad [${self.dtype} ${fmtShape(self.shape)}] is being used in an in-place operation (${spec.name}_). Autograd cannot differentiate through an overwritten leaf. Wrap parameter updates in noGrad(() => ...), operate on x.detach(), or use the out-of-place op.`,
      );
    }
  }
  if (recording && self.viewBase !== null) {
    fail(
      'INPLACE_ON_VIEW',
      `${spec.name}_ on a view [${self.dtype} ${fmtShape(self.shape)}] while recording gradients is not supported by gradflow (PyTorch rewrites the base's history). Call .clone() on the view first, or do the update under noGrad.`,
    );
  }
  if (self.shape.some((d, i) => d > 1 && self.strides[i] === 0)) {
    fail(
      'INVALID_ARGUMENT',
      `${spec.name}_: more than one element of the written-to tensor [${self.dtype} ${fmtShape(self.shape)}] refers to a single memory location (it is an expand()ed view), so the result would depend on write order. Call .clone() on it first.`,
    );
  }
  const needsSelfSnapshot = recording && spec.inputs.some((name) => spec.saves[name]?.includes('self'));
  const result = recording
    ? apply(spec, [needsSelfSnapshot ? self.clone() : self, ...others], attrs)
    : noGrad(() => apply(spec, [self, ...others], attrs, others));
  if (!shapeEq(result.shape, self.shape)) {
    fail(
      'SHAPE_MISMATCH',
      `${spec.name}_: output with shape ${fmtShape(self.shape)} doesn't match the broadcast shape ${fmtShape(result.shape)}; an in-place op cannot grow its tensor. Use the out-of-place op (e.g. x = x.${spec.name}(y)).`,
    );
  }
  // copy/setItem/fill build their result in self's dtype (they cast, as PyTorch's assignment does); only
  // arithmetic can promote an int32 self to float, which PyTorch refuses in place.
  if (result.dtype !== self.dtype && self.dtype === 'int32') {
    fail(
      'DTYPE_MISMATCH',
      `${spec.name}_: result type ${result.dtype} can't be cast to the in-place output type ${self.dtype} ${fmtShape(self.shape)}. Use the out-of-place op, which promotes.`,
    );
  }
  writeFrom(self, result);
  if (recording && result.gradFn) {
    const node = result.gradFn;
    // 'result' slots must watch `self`, which now holds the values and carries the version.
    for (const s of node.saved ?? []) {
      if (s.tensor === result) {
        s.tensor = self;
        s.version = self.version;
      }
    }
    moveToNode(self, node);
  }
  return self;
}
