import { OP_METADATA } from '@gradflow/autograd';
import ts from 'typescript';
import { assignedTo, stripExpression, tupleElement, type Bindings } from './bindings.js';
import { isFunctionLike, returnedValues } from './flow.js';
import type { FileIndex, MethodCall } from './file-index.js';
import type { StorageIdentity } from './identity.js';
import { FUNCTIONAL_OPS, libraryClassOfExpression, opOfMethod } from './library.js';
import { LIMITS } from './limits.js';
import type { ModulePaths } from './modules.js';
import { argumentFlowsThrough, helperOf, savesThrough } from './summaries.js';
import type { TrainingFacts } from './training.js';
import type { TensorValues } from './values.js';

/**
 * Saved tensors: what each recorded op saves for backward (read from the engine's op table,
 * `OP_METADATA`, the same table the engine's version check reads), and which saving sites a
 * backward from a given tensor walks through (the part of the graph it frees). This file owns that
 * modelling; values come from values.ts, storage keys from identity.ts.
 */

/** A recorded op site and the tensors (by identity key) it saves for backward. */
export interface SavingSite {
  readonly site: ts.CallExpression;
  readonly saved: readonly { readonly key: string; readonly expression: ts.Node; readonly label?: string }[];
}

/** nn.Linear computes input.matmul(weight.T): its saves are matmul's. */
const LINEAR_AS_MATMUL = OP_METADATA.matmul;

export class SavedTensors {
  private readonly graphMemo = new Map<ts.Node, ReadonlySet<ts.CallExpression>>();
  private readonly savedMemo = new Map<ts.CallExpression, SavingSite>();

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly index: FileIndex,
    private readonly values: TensorValues,
    private readonly identities: StorageIdentity,
    private readonly bindings: Bindings,
    private readonly paths: ModulePaths,
    private readonly training: Pick<TrainingFacts, 'mayBeFrozen'>,
    private readonly program?: ts.Program,
  ) {}

  /**
   * The recorded sites that save tensors on the way from `expression` back to its leaves (the
   * part of the graph a backward frees). Only sites known to record are included.
   */
  savingSites(expression: ts.Expression, depth = 0): ReadonlySet<ts.CallExpression> {
    const expr = stripExpression(expression);
    const cached = this.graphMemo.get(expr);
    if (cached) return cached;
    const out = new Set<ts.CallExpression>();
    this.graphMemo.set(expr, out);
    if (depth > LIMITS.valueDepth) return out;
    const add = (e: ts.Expression): void => {
      for (const s of this.savingSites(e, depth + 1)) out.add(s);
    };
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      if (def?.kind === 'expression') add(def.expression);
      const element = def ? undefined : tupleElement(this.bindings, expr);
      if (element && this.values.gradModeAt(element.call) === 'on') {
        // `const [a, b] = model.heads(x)`: the call stands for the graph its elements share inside it.
        if (this.tupleElementsShare(element.call, element.index)) out.add(element.call);
        this.helperArguments(element.call).forEach(add);
      }
    } else if (ts.isConditionalExpression(expr)) {
      add(expr.whenTrue);
      add(expr.whenFalse);
    } else if (ts.isCallExpression(expr) && !(this.values.methodCall(expr) !== undefined) && !this.index.libraryCalls.has(expr)) {
      const returned = this.values.returnedExpressions(expr);
      if (returned) returned.forEach(add);
      else {
        const helper = this.program ? helperOf(this.program, expr) : undefined;
        if (helper) {
          // A helper of another file: its own saves are instantiated at this call (savedBy), and the
          // graph goes on through the arguments it does not detach.
          if (this.savedBy(expr).saved.length > 0) out.add(expr);
          expr.arguments.forEach((argument, k) => {
            if (argumentFlowsThrough(helper, k)) add(argument);
          });
        }
      }
    } else if (ts.isCallExpression(expr) && this.values.evaluate(expr).requiresGrad === 'yes') {
      const fn = this.index.libraryCalls.get(expr);
      const method = this.values.methodCall(expr);
      if (fn !== undefined && FUNCTIONAL_OPS.has(fn)) {
        out.add(expr);
        expr.arguments.forEach(add);
      } else if (fn === 'noGrad' || fn === 'enableGrad') {
        // A recorded value out of `enableGrad(() => f)` (also inside a noGrad): f's graph.
        const callback = expr.arguments.at(0);
        const body = callback ? stripExpression(callback) : undefined;
        if (body && isFunctionLike(body)) returnedValues(body).forEach(add);
      } else if (method?.receiverClass.kind === 'module' && method.method === 'forward') {
        out.add(expr);
        expr.arguments.forEach(add);
        // A model class of this file: its forward's own ops are part of the graph too.
        this.values.returnedExpressions(expr)?.forEach(add);
      } else if (method) {
        if (this.savedBy(expr).saved.length > 0 || this.savesInternally(method)) out.add(expr);
        add(method.receiver);
        expr.arguments.forEach(add);
      }
    }
    return out;
  }

  /**
   * Whether element `index` of the tuples a function returns shares saved tensors with another
   * element (a trunk under two heads): computed by the function's own file's analysis. Any
   * returned value that is not an array literal makes the answer no.
   */
  private tupleElementsShare(call: ts.CallExpression, index: number): boolean {
    const helper = this.program ? helperOf(this.program, call) : undefined;
    const returned = helper ? returnedValues(helper.declaration) : this.values.returnedExpressions(call);
    const saved = helper ? helper.analysis.saved : this;
    if (!returned || returned.length === 0) return false;
    return returned.every((value) => {
      const tuple = stripExpression(value);
      if (!ts.isArrayLiteralExpression(tuple) || index >= tuple.elements.length) return false;
      const own = saved.savingSites(tuple.elements[index]);
      return tuple.elements.some((other, j) => j !== index && [...saved.savingSites(other)].some((site) => own.has(site)));
    });
  }

  /** The arguments of a call whose graph flows into its result: all of them, except those a helper of another file does not use with gradients. */
  private helperArguments(call: ts.CallExpression): readonly ts.Expression[] {
    const helper = this.program ? helperOf(this.program, call) : undefined;
    const args = [...call.arguments, ...(ts.isPropertyAccessExpression(call.expression) ? [call.expression.expression] : [])];
    return helper ? args.filter((_, k) => k >= call.arguments.length || argumentFlowsThrough(helper, k)) : args;
  }

  private savesInternally(method: MethodCall): boolean {
    const op = opOfMethod(method.method, method.call);
    if (!op) return false;
    const meta = OP_METADATA[op];
    const inputs = [method.receiver, ...method.call.arguments];
    return meta.inputs.some((name, i) => {
      const input = inputs.at(i);
      return (
        input !== undefined &&
        this.values.isTensorExpression(input) &&
        this.values.evaluate(input).requiresGrad === 'yes' &&
        (meta.saves[name]?.length ?? 0) > 0
      );
    });
  }

  /** What a recorded op saves for backward, read from the engine's op table (`OP_METADATA`). */
  savedBy(call: ts.CallExpression): SavingSite {
    let site = this.savedMemo.get(call);
    if (!site) {
      site = this.computeSaved(call);
      this.savedMemo.set(call, site);
    }
    return site;
  }

  private computeSaved(call: ts.CallExpression): SavingSite {
    const method = this.values.methodCall(call);
    const saved: { key: string; expression: ts.Node; label?: string }[] = [];
    if (this.values.gradModeAt(call) !== 'on') return { site: call, saved };
    const push = (expression: ts.Expression | undefined): void => {
      if (!expression) return;
      const key = this.identities.identity(expression);
      if (key !== undefined && !saved.some((s) => s.key === key)) saved.push({ key, expression });
    };
    // A function or method with a body in another file (a model class's forward, a helper): what
    // its ops save, instantiated with this call's arguments and result.
    const helper = this.program ? helperOf(this.program, call) : undefined;
    if (helper) {
      const needsGrad = (e: ts.Expression): boolean => this.values.isTensorExpression(e) && this.values.evaluate(e).requiresGrad === 'yes';
      for (const through of savesThrough(helper, call, needsGrad)) {
        if (through.argument) {
          if (this.values.isTensorExpression(through.argument)) push(through.argument);
        } else if (this.values.evaluate(call).requiresGrad === 'yes') push(assignedTo(call));
      }
      return { site: call, saved };
    }
    if (!method) {
      // `nn.functional.gelu(x)`, `where(cond, a, b)`: a library function named as an op of the table,
      // its arguments the op's inputs in order.
      const fn = this.index.libraryCalls.get(call);
      const meta = fn !== undefined && FUNCTIONAL_OPS.has(fn) ? OP_METADATA[fn as keyof typeof OP_METADATA] : undefined;
      if (meta) this.pushSaves(meta, [...call.arguments], call, push);
      return { site: call, saved };
    }
    if (method.receiverClass.kind === 'module') {
      if (method.method !== 'forward') return { site: call, saved };
      // `model.at(0)` is typed as a Module: the class it was built with, when the Sequential's construction shows it.
      const built = method.receiverClass.className === 'Module' ? this.paths.construction(method.receiver) : undefined;
      const className = (built && libraryClassOfExpression(this.checker, built)?.className) ?? method.receiverClass.className;
      if (className === 'Sequential') return { site: call, saved: this.sequentialSaves(method) };
      if (className !== 'Linear') return { site: call, saved };
      // nn.Linear.forward(x) is x.matmul(weight.transpose(0, 1)) (+ bias): what matmul saves, read
      // from the op table, with the weight (a parameter) as `other`.
      const input = call.arguments.at(0);
      const weight = this.paths.pathOf(method.receiver);
      const needsGrad: Record<string, boolean> = {
        self: input !== undefined && this.values.evaluate(input).requiresGrad === 'yes',
        // The weight needs a gradient unless the layer may be frozen (then what it saves is not known).
        other: weight !== undefined && !this.training.mayBeFrozen(weight),
      };
      for (const name of LINEAR_AS_MATMUL.inputs) {
        if (!needsGrad[name]) continue;
        for (const savedName of LINEAR_AS_MATMUL.saves[name] ?? []) {
          if (savedName === 'self') push(input);
          else if (savedName === 'other' && weight) {
            const key = `${weight.root}.${[...weight.segments, 'weight'].join('.')}`;
            if (!saved.some((s) => s.key === key))
              saved.push({ key, expression: method.receiver, label: `${method.receiver.getText()}.weight` });
          }
        }
      }
      return { site: call, saved };
    }
    const op = opOfMethod(method.method, call);
    if (!op) return { site: call, saved };
    // The op's tensor inputs are the receiver and the tensor arguments, in order: `a.gather(1, index)`
    // gives `index` (the dim is not a tensor input).
    this.pushSaves(OP_METADATA[op], [method.receiver, ...call.arguments.filter((a) => this.values.isTensorExpression(a))], call, push);
    return { site: call, saved };
  }

  /** What an op of the table saves, its inputs given in order (`result` is the name the call's value is stored in). */
  private pushSaves(
    meta: (typeof OP_METADATA)[keyof typeof OP_METADATA],
    inputs: readonly ts.Expression[],
    call: ts.CallExpression,
    push: (expression: ts.Expression | undefined) => void,
  ): void {
    const operands: Record<string, ts.Expression | undefined> = { result: assignedTo(call) };
    meta.inputs.forEach((name, i) => {
      operands[name] = inputs[i];
    });
    meta.inputs.forEach((name) => {
      const input = operands[name];
      if (!input || !this.values.isTensorExpression(input) || this.values.evaluate(input).requiresGrad !== 'yes') return;
      for (const savedName of meta.saves[name] ?? []) {
        const target = operands[savedName];
        if (target && (savedName === 'result' || this.values.isTensorExpression(target))) push(target);
      }
    });
  }

  /**
   * A Sequential saves the weights of its Linear layers whose input needs a gradient: all of them
   * when its own input does, and those after the first when it holds two or more (seen at its
   * construction). The key `path.*` stands for "some parameters under path".
   */
  private sequentialSaves(method: MethodCall): { key: string; expression: ts.Node; label?: string }[] {
    const path = this.paths.pathOf(method.receiver);
    const input = method.call.arguments.at(0);
    if (!path || !input) return [];
    const receiver = stripExpression(method.receiver);
    const def = ts.isIdentifier(receiver) ? this.bindings.definition(receiver) : undefined;
    const built = def?.kind === 'expression' ? stripExpression(def.expression) : undefined;
    const layers =
      built && ts.isNewExpression(built) ? (built.arguments ?? []).map((a) => libraryClassOfExpression(this.checker, a)?.className) : [];
    let savesWeights = this.values.evaluate(input).requiresGrad === 'yes';
    if (!savesWeights) savesWeights = layers.filter((c) => c === 'Linear').length >= 2;
    const key = `${[path.root, ...path.segments].join('.')}.*`;
    const out: { key: string; expression: ts.Node; label?: string }[] = savesWeights
      ? [{ key, expression: method.receiver, label: `${method.receiver.getText()}'s weights` }]
      : [];
    // A first Linear layer computes input.matmul(weight.T): its weight needs a gradient (unless the
    // Sequential may be frozen), so matmul saves the input (the op table's saves for `other`).
    const inputKey =
      layers[0] === 'Linear' && (LINEAR_AS_MATMUL.saves.other ?? []).includes('self') && !this.training.mayBeFrozen(path)
        ? this.identities.identity(input)
        : undefined;
    if (inputKey !== undefined) out.push({ key: inputKey, expression: input });
    return out;
  }
}
