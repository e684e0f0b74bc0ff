import { INPLACE_METHODS, OP_METADATA, OP_METHODS } from '@gradflow/autograd';
import ts from 'typescript';
import { stripExpression, type Bindings } from './bindings.js';
import { LIMITS } from './limits.js';
import type { ModulePaths } from './modules.js';
import type { TensorValues } from './values.js';

/**
 * Storage identity: which expressions name the same storage and version counter. This file owns
 * the identity keys (`v3.layer1.weight`, a local's key) that in-place writes and saved tensors are
 * matched by; views, `detach()`, `requiresGrad_()` and in-place methods share their receiver's.
 */
const VIEW_METHODS = new Set(
  Object.entries(OP_METHODS)
    .filter(([, op]) => OP_METADATA[op].view)
    .map(([m]) => m),
);

export class StorageIdentity {
  private readonly memo = new Map<ts.Expression, string | undefined>();

  constructor(
    private readonly values: TensorValues,
    private readonly bindings: Bindings,
    private readonly paths: ModulePaths,
  ) {}

  /**
   * A key for the storage (and version counter) an expression refers to: local names, parameter
   * paths, and through views, `detach()` and in-place methods, which all share the version counter.
   */
  identity(expression: ts.Expression, depth = 0): string | undefined {
    // Only top-level answers are memoised, so the depth limit cuts alias chains exactly as before.
    if (depth > 0) return this.computeIdentity(expression, depth);
    if (this.memo.has(expression)) return this.memo.get(expression);
    const key = this.computeIdentity(expression, 0);
    this.memo.set(expression, key);
    return key;
  }

  private computeIdentity(expression: ts.Expression, depth: number): string | undefined {
    if (depth > LIMITS.identityDepth) return undefined;
    const expr = stripExpression(expression);
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      if (def?.kind === 'expression') {
        const init = stripExpression(def.expression);
        const shared = ts.isCallExpression(init)
          ? this.sharedStorageSource(init)
          : ts.isIdentifier(init) || ts.isPropertyAccessExpression(init)
            ? init
            : undefined;
        if (shared) return this.identity(shared, depth + 1);
      }
      const path = this.paths.pathOf(expr);
      return path ? [path.root, ...path.segments].join('.') : undefined;
    }
    if (ts.isPropertyAccessExpression(expr)) {
      if (expr.name.text === 'grad') return undefined;
      const path = this.paths.pathOf(expr);
      return path ? [path.root, ...path.segments].join('.') : undefined;
    }
    if (ts.isCallExpression(expr)) {
      const shared = this.sharedStorageSource(expr);
      return shared ? this.identity(shared, depth + 1) : undefined;
    }
    return undefined;
  }

  /** The tensor whose storage a call's result shares: views, `detach()`, in-place methods. */
  private sharedStorageSource(call: ts.CallExpression): ts.Expression | undefined {
    const method = this.values.methodCall(call);
    if (!method || (method.receiverClass.kind !== 'tensor' && method.receiverClass.kind !== 'parameter')) return undefined;
    const name = method.method;
    return name === 'detach' || name === 'requiresGrad_' || VIEW_METHODS.has(name) || name in INPLACE_METHODS ? method.receiver : undefined;
  }
}
