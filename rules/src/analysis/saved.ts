import { OP_METADATA } from '@gradflow/autograd';
import ts from 'typescript';
import { assignedTo, stripExpression, tupleElement, type Bindings } from './bindings.js';
import { isAncestor, isFunctionLike, returnedValues } from './syntax.js';
import type { FileIndex, MethodCall } from './file-index.js';
import type { StorageIdentity } from './identity.js';
import { FUNCTIONAL_OPS, libraryClassOfExpression, opOfMethod } from './library.js';
import { LIMITS } from './limits.js';
import type { ModulePaths } from './modules.js';
import { argumentFlowsThrough, helperOf, parameterFlows, savesThrough } from './summaries.js';
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

/**
 * An operand of an op inside a library layer's forward: the layer's `input`, its `weight`, a
 * tensor computed from the input inside the forward (needs a gradient when the input does; no user
 * code can name it), or the layer's `output` (the result of the layer's last op).
 */
type LayerOperand = 'input' | 'weight' | 'fromInput';

/**
 * The recorded ops of a library layer's forward that save an operand the user can name, as
 * packages/autograd/src/nn writes them; what each op saves is read from the op table. A layer
 * whose last op saves its `result` saves the layer's output.
 */
const LAYER_OPS: Readonly<
  Partial<Record<string, readonly { readonly op: keyof typeof OP_METADATA; readonly operands: readonly LayerOperand[] }[]>>
> = {
  // input.matmul(weight.transpose(0, 1)) (+ bias)
  Linear: [{ op: 'matmul', operands: ['input', 'weight'] }],
  // One conv2d op over a private copy of the (padded) input (groups > 1: weight.reshape(…).matmul(unfold2d(input)),
  // the same roles): the weight is saved for the input's gradient, the input itself never.
  Conv2d: [{ op: 'conv2d', operands: ['fromInput', 'weight'] }],
  // input.var(dims), then (input − mean)/√(var + eps) · weight (+ bias)
  LayerNorm: [
    { op: 'var', operands: ['input'] },
    { op: 'mul', operands: ['fromInput', 'weight'] },
  ],
  // Training: one batchNorm op over (input, weight, bias, mean, var). Eval: (input − mean)/√var · weight,
  // which saves the weight only; the input's entry is used only where training mode is certain.
  BatchNorm1d: [{ op: 'batchNorm', operands: ['input', 'weight'] }],
  BatchNorm2d: [{ op: 'batchNorm', operands: ['input', 'weight'] }],
  ReLU: [{ op: 'relu', operands: ['input'] }],
  Sigmoid: [{ op: 'sigmoid', operands: ['input'] }],
  Tanh: [{ op: 'tanh', operands: ['input'] }],
  Softmax: [{ op: 'softmax', operands: ['input'] }],
  GELU: [{ op: 'gelu', operands: ['input'] }],
};

/** Layers whose forward records other ops in eval mode: what they save of their input is known only in training mode. */
const TRAINING_MODE_LAYERS: ReadonlySet<string> = new Set(['BatchNorm1d', 'BatchNorm2d']);

export class SavedTensors {
  private readonly graphMemo = new Map<ts.Node, ReadonlySet<ts.CallExpression>>();
  private readonly relaxedGraphMemo = new Map<ts.Node, ReadonlySet<ts.CallExpression>>();
  private readonly savedMemo = new Map<ts.CallExpression, SavingSite>();
  private readonly summaryMemo = new Map<ts.CallExpression, SavingSite>();
  private readonly parametersMemo = new Map<ts.Node, ReadonlySet<number>>();

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
  savingSites(expression: ts.Expression, depth = 0, relaxed = false): ReadonlySet<ts.CallExpression> {
    const expr = stripExpression(expression);
    const memo = relaxed ? this.relaxedGraphMemo : this.graphMemo;
    const cached = memo.get(expr);
    if (cached) return cached;
    const out = new Set<ts.CallExpression>();
    memo.set(expr, out);
    if (depth > LIMITS.valueDepth) return out;
    const add = (e: ts.Expression): void => {
      for (const s of this.savingSites(e, depth + 1, relaxed)) out.add(s);
    };
    // Relaxed (a summary of a function its callers run in different modes): what may record counts,
    // and every call on the way is a candidate site; what each saves is asked in the summary's mode.
    const records = (e: ts.Expression): boolean =>
      relaxed ? this.values.evaluate(e).requiresGrad !== 'no' : this.values.evaluate(e).requiresGrad === 'yes';
    const modeOn = (node: ts.Node): boolean => (relaxed ? this.values.gradModeAt(node) !== 'off' : this.values.gradModeAt(node) === 'on');
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      if (def?.kind === 'expression') add(def.expression);
      const element = def ? undefined : tupleElement(this.bindings, expr);
      if (element && modeOn(element.call)) {
        // `const [a, b] = model.heads(x)`: the call stands for the graph its elements share inside it.
        if (relaxed || this.tupleElementsShare(element.call, element.index)) out.add(element.call);
        this.helperArguments(element.call).forEach(add);
        // A method of this file returning the tuple: the element's own graph inside it.
        for (const value of this.values.returnedExpressions(element.call) ?? []) {
          const tuple = stripExpression(value);
          const own = ts.isArrayLiteralExpression(tuple) ? tuple.elements.at(element.index) : undefined;
          if (own && !ts.isSpreadElement(own)) add(own);
        }
      }
    } else if (ts.isConditionalExpression(expr)) {
      add(expr.whenTrue);
      add(expr.whenFalse);
    } else if (ts.isCallExpression(expr) && !(this.values.methodCall(expr) !== undefined) && !this.index.libraryCalls.has(expr)) {
      const local = this.values.localDeclaration(expr);
      if (local) {
        if (relaxed || this.savedBy(expr).saved.length > 0) out.add(expr);
        returnedValues(local).forEach(add);
        // The graphs of the arguments it uses with gradients (through its parameters, which stand for
        // them only when it has a single call site).
        expr.arguments.forEach((argument, k) => {
          if (parameterFlows({ bindings: this.bindings, index: this.index }, local, k)) add(argument);
        });
      } else {
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
    } else if (ts.isCallExpression(expr) && records(expr)) {
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
        if (relaxed || this.savedBy(expr).saved.length > 0 || this.savesInternally(method)) out.add(expr);
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

  /** What `call` saves when the function `entry` around it is entered with recording on (a summary's view). */
  private savedWithin(call: ts.CallExpression, entry: ts.Node): SavingSite {
    if (this.values.gradModeAt(call) === 'on') return this.savedBy(call);
    let site = this.summaryMemo.get(call);
    if (!site) {
      site = this.computeSaved(call, entry);
      this.summaryMemo.set(call, site);
    }
    return site;
  }

  /** `entry`: the function being summarised, taken as entered with recording on. */
  private computeSaved(call: ts.CallExpression, entry?: ts.Node): SavingSite {
    const method = this.values.methodCall(call);
    const saved: { key: string; expression: ts.Node; label?: string }[] = [];
    if (this.values.gradModeAt(call, entry) !== 'on') return { site: call, saved };
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
      // The layers and helpers it calls on its parameters (`this.trunk.forward(x)`), as its own file
      // sees them: unless this file may freeze part of the receiver (a layer's weight that needs no
      // gradient saves no input).
      const receiver = ts.isPropertyAccessExpression(call.expression) ? this.paths.pathOf(call.expression.expression) : undefined;
      const mayFreeze = receiver !== undefined && this.training.mayBeFrozen(receiver);
      for (const k of mayFreeze ? [] : helper.analysis.saved.savedParameters(helper.declaration)) {
        const argument = call.arguments.at(k);
        if (argument && this.values.isTensorExpression(argument)) push(argument);
      }
      return { site: call, saved };
    }
    const local = this.values.localDeclaration(call);
    if (local) {
      this.localSaves(call, local, push);
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
      this.layerSaves(method, className, saved);
      return { site: call, saved };
    }
    const op = opOfMethod(method.method, call);
    if (!op) return { site: call, saved };
    // The op's tensor inputs are the receiver and the tensor arguments, in order: `a.gather(1, index)`
    // gives `index` (the dim is not a tensor input).
    this.pushSaves(OP_METADATA[op], [method.receiver, ...call.arguments.filter((a) => this.values.isTensorExpression(a))], call, push);
    return { site: call, saved };
  }

  /**
   * A function or method of this file (a model class's `forward` called from two places, a
   * helper): what it saves of its own parameters (`savedParameters`) is what this call saves of
   * its arguments. (With a single call site the parameters already stand for the arguments; this
   * instantiates the summary at every call.)
   */
  private localSaves(
    call: ts.CallExpression,
    decl: ts.FunctionLikeDeclaration,
    push: (expression: ts.Expression | undefined) => void,
  ): void {
    for (const k of this.savedParameters(decl)) push(call.arguments.at(k));
  }

  /**
   * The positions of the parameters of a function of this file that the recorded sites on the way
   * to its returned values (each element of a returned tuple) save, the function taken as entered
   * with recording on. Recursion saves nothing more.
   */
  savedParameters(decl: ts.FunctionLikeDeclaration): ReadonlySet<number> {
    const known = this.parametersMemo.get(decl);
    if (known) return known;
    const out = new Set<number>();
    this.parametersMemo.set(decl, out);
    const values = returnedValues(decl).flatMap((value) => {
      const tuple = stripExpression(value);
      return ts.isArrayLiteralExpression(tuple) ? tuple.elements.filter((e) => !ts.isSpreadElement(e)) : [value];
    });
    const sites = new Set<ts.CallExpression>();
    for (const value of values) for (const site of this.savingSites(value, 0, true)) if (isAncestor(decl, site)) sites.add(site);
    for (const site of sites) {
      for (const { expression } of this.savedWithin(site, decl).saved) {
        const k = this.parameterIndex(decl, expression);
        if (k !== undefined) out.add(k);
      }
    }
    return out;
  }

  /** The position of the parameter of `decl` that `expression` names, if it names one. */
  private parameterIndex(decl: ts.FunctionLikeDeclaration, expression: ts.Node): number | undefined {
    const expr = ts.isExpression(expression) ? stripExpression(expression) : expression;
    if (!ts.isIdentifier(expr)) return undefined;
    const symbol = this.bindings.symbolOf(expr);
    const k = decl.parameters.findIndex(
      (p) => ts.isIdentifier(p.name) && p.dotDotDotToken === undefined && this.bindings.symbolOf(p.name) === symbol,
    );
    return symbol && k >= 0 ? k : undefined;
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
   * What a library layer's forward saves (`LAYER_OPS`): the input when an op saves it and the
   * operand it is saved for needs a gradient; the weight likewise (keyed `path.weight`); the layer's
   * output when its last op saves its result. The weight needs a gradient unless the layer may be
   * frozen; an `affine: false` layer, or one whose construction is not seen, has a weight of unknown
   * need, so nothing saved only for it is claimed.
   */
  private layerSaves(method: MethodCall, className: string, saved: { key: string; expression: ts.Node; label?: string }[]): void {
    const ops = LAYER_OPS[className];
    const call = method.call;
    const input = call.arguments.at(0);
    if (!ops || !input) return;
    const path = this.paths.pathOf(method.receiver);
    const built = this.paths.construction(method.receiver);
    const affine = className === 'Linear' || className === 'Conv2d' || (built !== undefined && !disablesAffine(built));
    const inputNeedsGrad = this.values.evaluate(input).requiresGrad === 'yes';
    const needs: Record<LayerOperand, boolean> = {
      input: inputNeedsGrad,
      // (An inline `new nn.BatchNorm1d(4).forward(x)`: its fresh weight, which nothing else holds, needs one.)
      weight:
        affine &&
        (path !== undefined ? !this.training.mayBeFrozen(path) : built !== undefined && stripExpression(method.receiver) === built),
      fromInput: inputNeedsGrad,
    };
    const trainingKnown = !TRAINING_MODE_LAYERS.has(className) || this.certainlyTraining(method.receiver, built);
    const pushKey = (key: string | undefined, expression: ts.Node, label?: string): void => {
      if (key !== undefined && !saved.some((s) => s.key === key))
        saved.push(label === undefined ? { key, expression } : { key, expression, label });
    };
    ops.forEach(({ op, operands }, k) => {
      const meta = OP_METADATA[op];
      meta.inputs.forEach((name, i) => {
        const operand = operands.at(i);
        if (operand === undefined || !needs[operand]) return;
        for (const savedName of meta.saves[name] ?? []) {
          const target =
            savedName === 'result' ? (k === ops.length - 1 ? 'output' : undefined) : operands.at(meta.inputs.indexOf(savedName));
          if (target === 'input' && trainingKnown) pushKey(this.identities.identity(input), input);
          else if (target === 'output') {
            const output = assignedTo(call);
            if (output) pushKey(this.identities.identity(output), output);
          } else if (target === 'weight' && affine && path)
            pushKey([path.root, ...path.segments, 'weight'].join('.'), method.receiver, `${method.receiver.getText()}.weight`);
        }
      });
    });
  }

  /**
   * Whether a layer certainly runs in training mode (the default) at its forward: it is built in
   * this file, nothing in this file switches a module's mode (`.eval()`, `.train(…)`, `.training`),
   * and no function of another file is given it (or what holds it).
   */
  private certainlyTraining(receiver: ts.Expression, built: ts.NewExpression | undefined): boolean {
    if (!built || built.getSourceFile() !== receiver.getSourceFile()) return false;
    const file = receiver.getSourceFile();
    if (switchesModes(file)) return false;
    // `new nn.BatchNorm1d(4).forward(x)`: nothing else holds it.
    if (stripExpression(receiver) === built) return true;
    const path = this.paths.pathOf(receiver);
    if (!path) return false;
    return !this.index.importedCalls.some((c) =>
      [...c.arguments, ...(ts.isPropertyAccessExpression(c.expression) ? [c.expression.expression] : [])].some((a) => {
        const p = this.paths.pathOf(a);
        return p !== undefined && p.root === path.root;
      }),
    );
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

/** `new nn.LayerNorm(d, { elementwiseAffine: false })`, `new nn.BatchNorm2d(c, { affine: false })`, or options that are not a literal. */
function disablesAffine(built: ts.NewExpression): boolean {
  const options = built.arguments?.at(1);
  if (!options) return false;
  const literal = stripExpression(options);
  if (!ts.isObjectLiteralExpression(literal)) return true;
  return literal.properties.some((p) => {
    // A spread or a shorthand `{ affine }`: not known.
    if (!ts.isPropertyAssignment(p)) return true;
    const name = p.name.getText();
    return (name === 'affine' || name === 'elementwiseAffine') && p.initializer.kind !== ts.SyntaxKind.TrueKeyword;
  });
}

const modeSwitches = new WeakMap<ts.SourceFile, boolean>();

/** Whether a file may switch a module's mode (`.eval()`, `.train(…)`, `.training`): read once per file. */
function switchesModes(file: ts.SourceFile): boolean {
  let found = modeSwitches.get(file);
  if (found === undefined) {
    found = /\.(?:eval|train)\s*\(|\.training\b/.test(file.text);
    modeSwitches.set(file, found);
  }
  return found;
}
