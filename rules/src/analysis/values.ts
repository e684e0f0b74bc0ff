import ts from 'typescript';
import { OP_METADATA, OP_METHODS, INPLACE_METHODS } from '@gradflow/autograd';
import { Bindings, stripExpression } from './bindings.js';
import type { FileIndex, MethodCall } from './file-index.js';
import { returnedValues, type Flow } from './flow.js';
import { CREATION_FUNCTIONS, FUNCTIONAL_OPS, libraryClassOfExpression } from './library.js';
import type { ModulePaths } from './modules.js';
import { foreignDeclaration } from './program-calls.js';

/** Three-valued facts: the analysis says 'unknown' instead of guessing. */
export type Tri = 'yes' | 'no' | 'unknown';

export interface TensorValue {
  readonly requiresGrad: Tri;
  readonly leaf: Tri;
  /** Created with an integer dtype (`dtype: 'int32'`). */
  readonly integer: boolean;
  /** Computed while recording was off (a `noGrad` result, or an op inside a `noGrad` callback). */
  readonly computedUnderNoGrad: ts.Node | undefined;
  /** The expression that made the value, after following local names. */
  readonly origin: ts.Node | undefined;
}

const UNKNOWN: TensorValue = { requiresGrad: 'unknown', leaf: 'unknown', integer: false, computedUnderNoGrad: undefined, origin: undefined };
const PARAMETER: TensorValue = { requiresGrad: 'yes', leaf: 'yes', integer: false, computedUnderNoGrad: undefined, origin: undefined };
/** Functional losses and activations always save something for backward (pow, abs, softmax results). */
const VIEW_METHODS = new Set(Object.entries(OP_METHODS).filter(([, op]) => OP_METADATA[op].view).map(([m]) => m));

/** A recorded op site and the tensors (by identity key) it saves for backward. */
export interface SavingSite {
  readonly site: ts.CallExpression;
  readonly saved: readonly { readonly key: string; readonly expression: ts.Node; readonly label?: string }[];
}

/** How one file's values reach another file's: the program, this file, and each file's values. */
export interface CrossFileValues {
  readonly program: ts.Program;
  readonly sourceFile: ts.SourceFile;
  valuesOf(file: ts.SourceFile): TensorValues | undefined;
}

export class TensorValues {
  private readonly memo = new Map<ts.Node, TensorValue>();
  private readonly graphMemo = new Map<ts.Node, ReadonlySet<ts.CallExpression>>();
  private readonly savedMemo = new Map<ts.CallExpression, SavingSite>();
  private readonly identityMemo = new Map<ts.Expression, string | undefined>();
  private readonly methodCallOf: ReadonlyMap<ts.CallExpression, MethodCall>;

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly index: FileIndex,
    private readonly bindings: Bindings,
    private readonly flow: Flow,
    private readonly paths: ModulePaths,
    private readonly crossFile?: CrossFileValues,
  ) {
    this.methodCallOf = new Map(index.methodCalls.map((m) => [m.call, m]));
  }

  methodCall(call: ts.CallExpression): MethodCall | undefined {
    return this.methodCallOf.get(call);
  }

  /** 'off' inside `noGrad(() => …)`, 'on' at top level or inside `enableGrad`, else 'unknown'. */
  gradModeAt(node: ts.Node): 'off' | 'on' | 'unknown' {
    return this.flow.gradModeAt(node, (call) => {
      const fn = this.index.libraryCalls.get(call);
      return fn === 'noGrad' ? 'off' : fn === 'enableGrad' ? 'on' : undefined;
    });
  }

  isTensorExpression(expr: ts.Expression): boolean {
    const kind = libraryClassOfExpression(this.checker, expr)?.kind;
    return kind === 'tensor' || kind === 'parameter';
  }

  evaluate(expression: ts.Expression, depth = 0): TensorValue {
    const expr = stripExpression(expression);
    // A value of another file (a helper's return) is that file's analysis's to answer.
    if (this.crossFile && expr.getSourceFile() !== this.crossFile.sourceFile) return this.crossFile.valuesOf(expr.getSourceFile())?.evaluate(expr, depth) ?? UNKNOWN;
    const cached = this.memo.get(expr);
    if (cached) return cached;
    if (depth > 24) return UNKNOWN;
    this.memo.set(expr, UNKNOWN); // cycles through aliases end as unknown
    const value = this.compute(expr, depth);
    this.memo.set(expr, value);
    return value;
  }

  private compute(expr: ts.Expression, depth: number): TensorValue {
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      if (def?.kind === 'expression') return { ...this.evaluate(def.expression, depth + 1) };
      if (def?.kind === 'element') return this.isParameterIterable(def.of) ? { ...PARAMETER, origin: def.at } : this.byType(expr);
      return this.byType(expr);
    }
    if (ts.isNewExpression(expr)) {
      const cls = libraryClassOfExpression(this.checker, expr);
      if (cls?.kind !== 'parameter') return UNKNOWN;
      const flag = expr.arguments?.[1];
      return { ...PARAMETER, requiresGrad: flag?.kind === ts.SyntaxKind.FalseKeyword ? 'no' : 'yes', origin: expr };
    }
    if (ts.isPropertyAccessExpression(expr)) {
      if (expr.name.text === 'grad') return { requiresGrad: 'no', leaf: 'yes', integer: false, computedUnderNoGrad: undefined, origin: expr };
      const field = this.bindings.fieldDefinition(expr);
      if (field?.kind === 'expression') return this.evaluate(field.expression, depth + 1);
      return this.byType(expr);
    }
    if (ts.isConditionalExpression(expr)) {
      const a = this.evaluate(expr.whenTrue, depth + 1);
      const b = this.evaluate(expr.whenFalse, depth + 1);
      return a.requiresGrad === b.requiresGrad && a.leaf === b.leaf ? { ...a, origin: expr } : UNKNOWN;
    }
    if (ts.isCallExpression(expr)) return this.computeCall(expr, depth);
    return UNKNOWN;
  }

  private byType(expr: ts.Expression): TensorValue {
    return libraryClassOfExpression(this.checker, expr)?.kind === 'parameter' ? { ...PARAMETER, origin: expr } : UNKNOWN;
  }

  /** `m.parameters()`, `m.namedParameters()` and filters/slices of them. */
  private isParameterIterable(iterable: ts.Expression): boolean {
    return this.paths.paramSources(iterable) !== undefined;
  }

  private computeCall(call: ts.CallExpression, depth: number): TensorValue {
    const fn = this.index.libraryCalls.get(call);
    if (fn !== undefined) {
      if (CREATION_FUNCTIONS.has(fn)) return creationValue(call, fn);
      if (fn === 'noGrad') return { requiresGrad: 'no', leaf: 'yes', integer: false, computedUnderNoGrad: call, origin: call };
      if (FUNCTIONAL_OPS.has(fn)) return this.opResult(call, call.arguments.filter((a) => this.isTensorExpression(a)), depth);
      return UNKNOWN;
    }
    const method = this.methodCallOf.get(call);
    if (!method) return this.localCallResult(call, depth);
    const { receiverClass, receiver } = method;
    if (receiverClass.kind === 'module') {
      if (method.method !== 'forward') return UNKNOWN;
      const mode = this.gradModeAt(call);
      if (mode === 'off') return { requiresGrad: 'no', leaf: 'yes', integer: false, computedUnderNoGrad: call, origin: call };
      return mode === 'on' ? { requiresGrad: 'yes', leaf: 'no', integer: false, computedUnderNoGrad: undefined, origin: call } : UNKNOWN;
    }
    if (receiverClass.kind !== 'tensor' && receiverClass.kind !== 'parameter') return UNKNOWN;
    const name = method.method;
    if (name === 'detach') {
      const base = this.evaluate(receiver, depth + 1);
      return { requiresGrad: 'no', leaf: 'yes', integer: base.integer, computedUnderNoGrad: undefined, origin: call };
    }
    if (name === 'requiresGrad_') {
      const base = this.evaluate(receiver, depth + 1);
      const arg = call.arguments.at(0);
      const flag: Tri = !arg || arg.kind === ts.SyntaxKind.TrueKeyword ? 'yes' : arg.kind === ts.SyntaxKind.FalseKeyword ? 'no' : 'unknown';
      return base.leaf === 'no' ? base : { ...base, requiresGrad: flag, origin: call };
    }
    if (name in INPLACE_METHODS) return this.evaluate(receiver, depth + 1);
    if (name in OP_METHODS) {
      return this.opResult(call, [receiver, ...call.arguments.filter((a) => this.isTensorExpression(a))], depth);
    }
    return UNKNOWN;
  }

  /** A call of a function or method declared in this file: what its return statements agree on. */
  private localCallResult(call: ts.CallExpression, depth: number): TensorValue {
    const returned = this.returnedExpressions(call) ?? this.foreignReturns(call);
    if (!returned || returned.length === 0) return UNKNOWN;
    const values = returned.map((r) => this.evaluate(r, depth + 1));
    const first = values[0];
    return values.every((v) => v.requiresGrad === first.requiresGrad && v.leaf === first.leaf) ? first : UNKNOWN;
  }

  /** The expressions a same-file function or method returns (its body for `() => expr`). */
  returnedExpressions(call: ts.CallExpression): ts.Expression[] | undefined {
    const callee = call.expression;
    // Only a method this file declares can be followed; other names need no symbol lookup.
    const name = ts.isIdentifier(callee) ? callee
      : ts.isPropertyAccessExpression(callee) && this.index.localMethods.has(callee.name.text) ? callee.name : undefined;
    let decl = name ? this.bindings.symbolOf(name)?.valueDeclaration : undefined;
    if (decl && ts.isVariableDeclaration(decl) && decl.initializer && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer))) decl = decl.initializer;
    if (!decl || decl.getSourceFile() !== call.getSourceFile()) return undefined;
    if (!(ts.isFunctionDeclaration(decl) || ts.isMethodDeclaration(decl) || ts.isArrowFunction(decl) || ts.isFunctionExpression(decl)) || !decl.body) return undefined;
    return returnedValues(decl);
  }

  /** What a helper or method declared in another file returns (evaluated by that file's analysis). */
  foreignReturns(call: ts.CallExpression): ts.Expression[] | undefined {
    const found = this.crossFile ? foreignDeclaration(this.crossFile.program, call) : undefined;
    return found ? returnedValues(found.fn) : undefined;
  }

  private opResult(call: ts.CallExpression, inputs: readonly ts.Expression[], depth: number): TensorValue {
    const mode = this.gradModeAt(call);
    const values = inputs.map((i) => this.evaluate(i, depth + 1));
    const integer = values.length > 0 && values.every((v) => v.integer);
    if (mode === 'off') return { requiresGrad: 'no', leaf: 'yes', integer, computedUnderNoGrad: call, origin: call };
    const anyYes = values.some((v) => v.requiresGrad === 'yes');
    if (anyYes && mode === 'on') return { requiresGrad: 'yes', leaf: 'no', integer, computedUnderNoGrad: undefined, origin: call };
    if (values.every((v) => v.requiresGrad === 'no')) {
      const fromNoGrad = values.find((v) => v.computedUnderNoGrad)?.computedUnderNoGrad;
      return { requiresGrad: 'no', leaf: 'yes', integer, computedUnderNoGrad: fromNoGrad, origin: call };
    }
    return UNKNOWN;
  }

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
    if (depth > 24) return out;
    const add = (e: ts.Expression): void => { for (const s of this.savingSites(e, depth + 1)) out.add(s); };
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      if (def?.kind === 'expression') add(def.expression);
    } else if (ts.isConditionalExpression(expr)) {
      add(expr.whenTrue);
      add(expr.whenFalse);
    } else if (ts.isCallExpression(expr) && !this.methodCallOf.has(expr) && !this.index.libraryCalls.has(expr)) {
      this.returnedExpressions(expr)?.forEach(add);
    } else if (ts.isCallExpression(expr) && this.evaluate(expr).requiresGrad === 'yes') {
      const fn = this.index.libraryCalls.get(expr);
      const method = this.methodCallOf.get(expr);
      if (fn !== undefined && FUNCTIONAL_OPS.has(fn)) {
        out.add(expr);
        expr.arguments.forEach(add);
      } else if (method?.receiverClass.kind === 'module' && method.method === 'forward') {
        out.add(expr);
        expr.arguments.forEach(add);
        // A model class of this file: its forward's own ops are part of the graph too.
        this.returnedExpressions(expr)?.forEach(add);
      } else if (method) {
        if (this.savedBy(expr).saved.length > 0 || this.savesInternally(method)) out.add(expr);
        add(method.receiver);
        expr.arguments.forEach(add);
      }
    }
    return out;
  }

  /**
   * Every call an expression's value is computed from, through local names, receivers, arguments,
   * both arms of `?:` and same-file helpers' returns. Used to ask "does this backward reach that
   * noGrad result?".
   */
  dependencies(expression: ts.Expression): ReadonlySet<ts.Node> {
    const out = new Set<ts.Node>();
    const seen = new Set<ts.Node>();
    const visit = (e: ts.Expression, depth: number): void => {
      const expr = stripExpression(e);
      if (seen.has(expr) || depth > 24) return;
      seen.add(expr);
      if (ts.isIdentifier(expr)) {
        const def = this.bindings.definition(expr);
        if (def?.kind === 'expression') visit(def.expression, depth + 1);
        if (def?.kind === 'element') visit(def.of, depth + 1);
      } else if (ts.isConditionalExpression(expr)) {
        visit(expr.whenTrue, depth + 1);
        visit(expr.whenFalse, depth + 1);
      } else if (ts.isPropertyAccessExpression(expr)) {
        const field = this.bindings.fieldDefinition(expr);
        if (field?.kind === 'expression') visit(field.expression, depth + 1);
      } else if (ts.isCallExpression(expr)) {
        out.add(expr);
        if (ts.isPropertyAccessExpression(expr.expression)) visit(expr.expression.expression, depth + 1);
        expr.arguments.forEach((a) => { visit(a, depth + 1); });
        if (!this.methodCallOf.has(expr) || this.methodCallOf.get(expr)?.method === 'forward') {
          this.returnedExpressions(expr)?.forEach((r) => { visit(r, depth + 1); });
        }
      }
    };
    visit(expression, 0);
    return out;
  }

  private savesInternally(method: MethodCall): boolean {
    const op = OP_METHODS[method.method] as keyof typeof OP_METADATA | undefined;
    if (!op) return false;
    const meta = OP_METADATA[op];
    const inputs = [method.receiver, ...method.call.arguments];
    return meta.inputs.some((name, i) => {
      const input = inputs.at(i);
      return input !== undefined && this.isTensorExpression(input) && this.evaluate(input).requiresGrad === 'yes' && (meta.saves[name]?.length ?? 0) > 0;
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
    const method = this.methodCallOf.get(call);
    const saved: { key: string; expression: ts.Node; label?: string }[] = [];
    if (!method || this.gradModeAt(call) !== 'on') return { site: call, saved };
    const push = (expression: ts.Expression | undefined): void => {
      if (!expression) return;
      const key = this.identity(expression);
      if (key !== undefined && !saved.some((s) => s.key === key)) saved.push({ key, expression });
    };
    if (method.receiverClass.kind === 'module') {
      // nn.Linear.forward(x) is x.matmul(weight.transpose(0, 1)): it saves x for the weight's
      // gradient, and the weight (through the transposed view) when x needs a gradient.
      if (method.method !== 'forward') return { site: call, saved };
      if (method.receiverClass.className === 'Sequential') return { site: call, saved: this.sequentialSaves(method) };
      if (method.receiverClass.className !== 'Linear') return { site: call, saved };
      const input = call.arguments.at(0);
      push(input);
      if (input && this.evaluate(input).requiresGrad === 'yes') {
        const weight = this.paths.pathOf(method.receiver);
        if (weight) saved.push({ key: `${weight.root}.${[...weight.segments, 'weight'].join('.')}`, expression: method.receiver, label: `${method.receiver.getText()}.weight` });
      }
      return { site: call, saved };
    }
    const op = OP_METHODS[method.method] as keyof typeof OP_METADATA | undefined;
    if (!op) return { site: call, saved };
    const meta = OP_METADATA[op];
    const operands: Record<string, ts.Expression | undefined> = { result: resultHolder(call) };
    meta.inputs.forEach((name, i) => { operands[name] = i === 0 ? method.receiver : call.arguments[i - 1]; });
    meta.inputs.forEach((name) => {
      const input = operands[name];
      if (!input || !this.isTensorExpression(input) || this.evaluate(input).requiresGrad !== 'yes') return;
      for (const savedName of meta.saves[name] ?? []) {
        const target = operands[savedName];
        if (target && (savedName === 'result' || this.isTensorExpression(target))) push(target);
      }
    });
    return { site: call, saved };
  }

  /**
   * A Sequential saves the weights of its Linear layers whose input needs a gradient: all of them
   * when its own input does, and those after the first when it holds two or more (seen at its
   * construction). The key `path.*` stands for "some parameters under path".
   */
  private sequentialSaves(method: MethodCall): { key: string; expression: ts.Node; label: string }[] {
    const path = this.paths.pathOf(method.receiver);
    const input = method.call.arguments.at(0);
    if (!path || !input) return [];
    let savesWeights = this.evaluate(input).requiresGrad === 'yes';
    if (!savesWeights) {
      const receiver = stripExpression(method.receiver);
      const def = ts.isIdentifier(receiver) ? this.bindings.definition(receiver) : undefined;
      const built = def?.kind === 'expression' ? stripExpression(def.expression) : undefined;
      const linears = built && ts.isNewExpression(built)
        ? (built.arguments ?? []).filter((a) => libraryClassOfExpression(this.checker, a)?.className === 'Linear').length
        : 0;
      savesWeights = linears >= 2;
    }
    const key = `${[path.root, ...path.segments].join('.')}.*`;
    return savesWeights ? [{ key, expression: method.receiver, label: `${method.receiver.getText()}'s weights` }] : [];
  }

  /**
   * A key for the storage (and version counter) an expression refers to: local names, parameter
   * paths, and through views, `detach()` and in-place methods, which all share the version counter.
   */
  identity(expression: ts.Expression, depth = 0): string | undefined {
    // Only top-level answers are memoised, so the depth limit cuts alias chains exactly as before.
    if (depth > 0) return this.computeIdentity(expression, depth);
    if (this.identityMemo.has(expression)) return this.identityMemo.get(expression);
    const key = this.computeIdentity(expression, 0);
    this.identityMemo.set(expression, key);
    return key;
  }

  private computeIdentity(expression: ts.Expression, depth: number): string | undefined {
    if (depth > 16) return undefined;
    const expr = stripExpression(expression);
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      if (def?.kind === 'expression') {
        const init = stripExpression(def.expression);
        const shared = ts.isCallExpression(init) ? this.sharedStorageSource(init) : ts.isIdentifier(init) || ts.isPropertyAccessExpression(init) ? init : undefined;
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
    const method = this.methodCallOf.get(call);
    if (!method || (method.receiverClass.kind !== 'tensor' && method.receiverClass.kind !== 'parameter')) return undefined;
    const name = method.method;
    return name === 'detach' || name === 'requiresGrad_' || VIEW_METHODS.has(name) || name in INPLACE_METHODS ? method.receiver : undefined;
  }
}

/** The name a call's result is stored in (`const y = x.exp()`), so a saved 'result' has an identity. */
function resultHolder(call: ts.CallExpression): ts.Expression | undefined {
  const parent = call.parent;
  if (ts.isVariableDeclaration(parent) && parent.initializer === call && ts.isIdentifier(parent.name)) return parent.name;
  if (ts.isBinaryExpression(parent) && parent.right === call && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken) return parent.left;
  return undefined;
}

function creationValue(call: ts.CallExpression, fn: string): TensorValue {
  const options = call.arguments.at(fn === 'uniform' ? 3 : 1);
  let requiresGrad: Tri = options ? 'unknown' : 'no';
  let integer = false;
  if (options && ts.isObjectLiteralExpression(options)) {
    requiresGrad = 'no';
    for (const prop of options.properties) {
      if (!ts.isPropertyAssignment(prop) || !ts.isIdentifier(prop.name)) {
        if (ts.isSpreadAssignment(prop) || ts.isShorthandPropertyAssignment(prop)) requiresGrad = 'unknown';
        continue;
      }
      const value = stripExpression(prop.initializer);
      if (prop.name.text === 'requiresGrad') {
        requiresGrad = value.kind === ts.SyntaxKind.TrueKeyword ? 'yes' : value.kind === ts.SyntaxKind.FalseKeyword ? 'no' : 'unknown';
      } else if (prop.name.text === 'dtype') {
        integer = ts.isStringLiteralLike(value) && value.text === 'int32';
      }
    }
  }
  return { requiresGrad, leaf: 'yes', integer, computedUnderNoGrad: undefined, origin: call };
}
