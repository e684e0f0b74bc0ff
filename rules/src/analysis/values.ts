import ts from 'typescript';
import { INPLACE_METHODS } from '@gradflow/autograd';
import { Bindings, stripExpression, tupleElement } from './bindings.js';
import type { FileIndex, MethodCall, RequiresGradWrite } from './file-index.js';
import { type Flow } from './flow.js';
import { isAncestor, isFunctionLike, returnedValues } from './syntax.js';
import { CREATION_FUNCTIONS, FUNCTIONAL_OPS, libraryClassOfExpression, opOfMethod } from './library.js';
import type { ModulePaths, ParamPath } from './modules.js';
import { LIMITS } from './limits.js';
import { foreignDeclaration, isUserFile } from './program-calls.js';

/**
 * Tensor values: what an expression is (requires grad? a leaf? an integer? computed under noGrad?)
 * and the grad mode at a point, through local names, ops, helpers' and model methods' returns (in
 * other files too, each answered by its own file's analysis). Saved tensors are saved.ts's, storage
 * identity identity.ts's, gradient reach reach.ts's.
 */

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
  /** For a value computed only from detached tensors: the `detach()` call it comes from. */
  readonly detachedAt?: ts.Node;
}

const UNKNOWN: TensorValue = {
  requiresGrad: 'unknown',
  leaf: 'unknown',
  integer: false,
  computedUnderNoGrad: undefined,
  origin: undefined,
};
const PARAMETER: TensorValue = { requiresGrad: 'yes', leaf: 'yes', integer: false, computedUnderNoGrad: undefined, origin: undefined };

/** How one file's values reach another file's: the program, this file, and each file's values. */
export interface CrossFileValues {
  readonly program: ts.Program;
  readonly sourceFile: ts.SourceFile;
  valuesOf(file: ts.SourceFile): TensorValues | undefined;
}

export class TensorValues {
  private readonly memo = new Map<ts.Node, TensorValue>();
  /** Whether a module may be frozen whole (set once the file's training facts exist). */
  frozen: ((path: ParamPath, at: ts.Node) => boolean) | undefined;
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

  /**
   * 'off' inside `noGrad(() => …)`, 'on' at top level or inside `enableGrad`, else 'unknown'; with
   * `entry`, as if the function `entry` were entered with recording on.
   */
  gradModeAt(node: ts.Node, entry?: ts.Node): 'off' | 'on' | 'unknown' {
    return this.flow.gradModeAt(
      node,
      (call) => {
        const fn = this.index.libraryCalls.get(call);
        return fn === 'noGrad' ? 'off' : fn === 'enableGrad' ? 'on' : undefined;
      },
      0,
      entry,
    );
  }

  isTensorExpression(expr: ts.Expression): boolean {
    const kind = libraryClassOfExpression(this.checker, expr)?.kind;
    return kind === 'tensor' || kind === 'parameter';
  }

  evaluate(expression: ts.Expression, depth = 0): TensorValue {
    const expr = stripExpression(expression);
    // A value of another file (a helper's return) is that file's analysis's to answer.
    if (this.crossFile && expr.getSourceFile() !== this.crossFile.sourceFile)
      return this.crossFile.valuesOf(expr.getSourceFile())?.evaluate(expr, depth) ?? UNKNOWN;
    const cached = this.memo.get(expr);
    if (cached) return cached;
    if (depth > LIMITS.valueDepth) return UNKNOWN;
    this.memo.set(expr, UNKNOWN); // cycles through aliases end as unknown
    const value = this.compute(expr, depth);
    this.memo.set(expr, value);
    return value;
  }

  private compute(expr: ts.Expression, depth: number): TensorValue {
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      if (def?.kind === 'expression') return this.afterFlagWrites(expr, def.at, this.evaluate(def.expression, depth + 1));
      if (def?.kind === 'element') return this.isParameterIterable(def.of) ? { ...PARAMETER, origin: def.at } : this.byType(expr);
      const element = tupleElement(this.bindings, expr);
      if (element) return this.tupleElementValue(element.call, element.index, depth);
      return this.byType(expr);
    }
    if (ts.isNewExpression(expr)) {
      const cls = libraryClassOfExpression(this.checker, expr);
      if (cls?.kind !== 'parameter') return UNKNOWN;
      const flag = expr.arguments?.[1];
      return { ...PARAMETER, requiresGrad: flag?.kind === ts.SyntaxKind.FalseKeyword ? 'no' : 'yes', origin: expr };
    }
    if (ts.isPropertyAccessExpression(expr)) {
      if (expr.name.text === 'grad')
        return { requiresGrad: 'no', leaf: 'yes', integer: false, computedUnderNoGrad: undefined, origin: expr };
      const field = this.bindings.fieldDefinition(expr);
      if (field?.kind === 'expression') return this.evaluate(field.expression, depth + 1);
      return this.foreignField(expr) ?? this.byType(expr);
    }
    if (ts.isConditionalExpression(expr)) {
      const a = this.evaluate(expr.whenTrue, depth + 1);
      const b = this.evaluate(expr.whenFalse, depth + 1);
      return a.requiresGrad === b.requiresGrad && a.leaf === b.leaf ? { ...a, origin: expr } : UNKNOWN;
    }
    if (ts.isCallExpression(expr)) return this.computeCall(expr, depth);
    // `model.parameters()[0]`, `params[i]`: a Parameter by its type.
    if (ts.isElementAccessExpression(expr)) return this.byType(expr);
    return UNKNOWN;
  }

  /**
   * A leaf name's value at `use`, after the `requiresGrad` writes on that name between its
   * definition and the use (`const out = model.forward(x).detach(); out.requiresGrad = true;`
   * makes a leaf that requires grad). A write that certainly runs first sets the flag; one that
   * only may run first leaves it unknown. A write on a non-leaf throws, and changes nothing here.
   */
  private afterFlagWrites(use: ts.Identifier, definedAt: ts.Node, value: TensorValue): TensorValue {
    if (value.leaf !== 'yes') return value;
    const symbol = this.bindings.symbolOf(use);
    const writes = symbol ? this.flagWritesOf().get(symbol) : undefined;
    if (!writes) return { ...value };
    let requiresGrad = value.requiresGrad;
    for (const write of writes) {
      if (isAncestor(write.node, use) || !this.flow.mayFollow(write.node, use, { loops: true })) continue;
      const flag: Tri = write.flag === undefined ? 'unknown' : write.flag ? 'yes' : 'no';
      requiresGrad =
        this.flow.mustPassBetween(definedAt, write.node, use) && writes.length === 1 ? flag : flag === requiresGrad ? flag : 'unknown';
    }
    return { ...value, requiresGrad };
  }

  private flagWrites: Map<ts.Symbol, RequiresGradWrite[]> | undefined;

  /** `requiresGrad` writes on local names, by the name's symbol. */
  private flagWritesOf(): ReadonlyMap<ts.Symbol, readonly RequiresGradWrite[]> {
    if (this.flagWrites) return this.flagWrites;
    const bySymbol = new Map<ts.Symbol, RequiresGradWrite[]>();
    for (const write of this.index.requiresGradWrites) {
      const target = stripExpression(write.target);
      const symbol = ts.isIdentifier(target) ? this.bindings.symbolOf(target) : undefined;
      if (!symbol) continue;
      const list = bySymbol.get(symbol);
      if (list) list.push(write);
      else bySymbol.set(symbol, [write]);
    }
    this.flagWrites = bySymbol;
    return bySymbol;
  }

  private byType(expr: ts.Expression): TensorValue {
    return libraryClassOfExpression(this.checker, expr)?.kind === 'parameter' ? { ...PARAMETER, origin: expr } : UNKNOWN;
  }

  /** `m.parameters()`, `m.namedParameters()` and filters/slices of them. */
  private isParameterIterable(iterable: ts.Expression): boolean {
    return this.paths.paramSources(iterable) !== undefined;
  }

  /** An `enableGrad(…)` call, or a name bound to one. */
  private reEnablesGrad(expression: ts.Expression): boolean {
    let expr = stripExpression(expression);
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      if (def?.kind !== 'expression') return false;
      expr = stripExpression(def.expression);
    }
    return ts.isCallExpression(expr) && this.index.libraryCalls.get(expr) === 'enableGrad';
  }

  private computeCall(call: ts.CallExpression, depth: number): TensorValue {
    const fn = this.index.libraryCalls.get(call);
    if (fn !== undefined) {
      if (CREATION_FUNCTIONS.has(fn)) return creationValue(call, fn);
      if (fn === 'noGrad' || fn === 'enableGrad') {
        // A callback's value, computed in the mode its own code runs in (gradModeAt): enableGrad
        // records again, also inside a noGrad (`noGrad(() => enableGrad(() => model.forward(x)))`).
        const callback = call.arguments.at(0);
        const fnNode = callback ? stripExpression(callback) : undefined;
        const inner = fnNode && isFunctionLike(fnNode) ? returnedValues(fnNode) : [];
        if (fn === 'enableGrad' || inner.some((r) => this.reEnablesGrad(r)))
          return inner.length === 1 ? this.evaluate(inner[0], depth + 1) : UNKNOWN;
        return { requiresGrad: 'no', leaf: 'yes', integer: false, computedUnderNoGrad: call, origin: call };
      }
      if (FUNCTIONAL_OPS.has(fn))
        return this.opResult(
          call,
          call.arguments.filter((a) => this.isTensorExpression(a)),
          depth,
        );
      return UNKNOWN;
    }
    const method = this.methodCallOf.get(call);
    if (!method) return this.localCallResult(call, depth);
    const { receiverClass, receiver } = method;
    if (receiverClass.kind === 'module') {
      if (method.method !== 'forward') return UNKNOWN;
      const mode = this.gradModeAt(call);
      if (mode === 'off') return { requiresGrad: 'no', leaf: 'yes', integer: false, computedUnderNoGrad: call, origin: call };
      // A module that may be frozen whole computes an output that needs no gradient unless its input does: unknown.
      const path = mode === 'on' && this.frozen ? this.paths.pathOf(receiver) : undefined;
      if (path && this.frozen?.(path, call)) return UNKNOWN;
      return mode === 'on' ? { requiresGrad: 'yes', leaf: 'no', integer: false, computedUnderNoGrad: undefined, origin: call } : UNKNOWN;
    }
    if (receiverClass.kind !== 'tensor' && receiverClass.kind !== 'parameter') return UNKNOWN;
    const name = method.method;
    if (name === 'detach') {
      const base = this.evaluate(receiver, depth + 1);
      return { requiresGrad: 'no', leaf: 'yes', integer: base.integer, computedUnderNoGrad: undefined, origin: call, detachedAt: call };
    }
    if (name === 'requiresGrad_') {
      const base = this.evaluate(receiver, depth + 1);
      const arg = call.arguments.at(0);
      const flag: Tri = !arg || arg.kind === ts.SyntaxKind.TrueKeyword ? 'yes' : arg.kind === ts.SyntaxKind.FalseKeyword ? 'no' : 'unknown';
      return base.leaf === 'no' ? base : { ...base, requiresGrad: flag, origin: call };
    }
    if (name in INPLACE_METHODS) return this.evaluate(receiver, depth + 1);
    if (opOfMethod(name, call)) {
      return this.opResult(call, [receiver, ...call.arguments.filter((a) => this.isTensorExpression(a))], depth);
    }
    return UNKNOWN;
  }

  /** A field of a class declared in another user file (`model.lastHidden`): its one definition there, evaluated by that file. */
  private foreignField(access: ts.PropertyAccessExpression): TensorValue | undefined {
    const symbol = this.bindings.symbolOf(access.name);
    const decl = symbol?.valueDeclaration;
    if (!symbol || !decl || !ts.isPropertyDeclaration(decl) || !this.crossFile) return undefined;
    const file = decl.getSourceFile();
    if (file === access.getSourceFile() || !isUserFile(this.crossFile.program, file)) return undefined;
    return this.crossFile.valuesOf(file)?.fieldValue(symbol, decl);
  }

  /** The value of a field of this file's classes, from its one definition. */
  fieldValue(symbol: ts.Symbol, decl: ts.PropertyDeclaration): TensorValue | undefined {
    const def = this.bindings.fieldDefinitionOf(symbol, decl);
    return def?.kind === 'expression' ? this.evaluate(def.expression) : undefined;
  }

  /**
   * Element `index` of the tuple a user function or method returns (`const [a, b] = model.heads(x)`):
   * what its returned array literals agree on there, each evaluated by its own file's analysis.
   */
  private tupleElementValue(call: ts.CallExpression, index: number, depth: number): TensorValue {
    if (this.gradModeAt(call) === 'off')
      return { requiresGrad: 'no', leaf: 'yes', integer: false, computedUnderNoGrad: call, origin: call };
    const returned = this.returnedExpressions(call) ?? this.foreignReturns(call);
    if (!returned || returned.length === 0) return UNKNOWN;
    const values: TensorValue[] = [];
    for (const value of returned) {
      const tuple = stripExpression(value);
      const element = ts.isArrayLiteralExpression(tuple) ? tuple.elements.at(index) : undefined;
      if (!element || ts.isSpreadElement(element)) return UNKNOWN;
      const file = element.getSourceFile();
      const values_ = file === call.getSourceFile() ? this : this.crossFile?.valuesOf(file);
      if (!values_) return UNKNOWN;
      values.push(values_.evaluate(element, values_ === this ? depth + 1 : 0));
    }
    const first = values[0];
    return values.every((v) => v.requiresGrad === first.requiresGrad && v.leaf === first.leaf) ? first : UNKNOWN;
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
    const decl = this.localDeclaration(call);
    return decl ? returnedValues(decl) : undefined;
  }

  /** The same-file function or method a call runs (with a body), if the callee resolves to one. */
  localDeclaration(call: ts.CallExpression): ts.FunctionLikeDeclaration | undefined {
    const callee = call.expression;
    // Only a method this file declares can be followed; other names need no symbol lookup.
    const name = ts.isIdentifier(callee)
      ? callee
      : ts.isPropertyAccessExpression(callee) && this.index.localMethods.has(callee.name.text)
        ? callee.name
        : undefined;
    let decl = name ? this.bindings.symbolOf(name)?.valueDeclaration : undefined;
    if (
      decl &&
      ts.isVariableDeclaration(decl) &&
      decl.initializer &&
      (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer))
    )
      decl = decl.initializer;
    if (!decl || decl.getSourceFile() !== call.getSourceFile()) return undefined;
    if (
      !(ts.isFunctionDeclaration(decl) || ts.isMethodDeclaration(decl) || ts.isArrowFunction(decl) || ts.isFunctionExpression(decl)) ||
      !decl.body
    )
      return undefined;
    return decl;
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
      const detachedAt = values.find((v) => v.detachedAt)?.detachedAt;
      return { requiresGrad: 'no', leaf: 'yes', integer, computedUnderNoGrad: fromNoGrad, origin: call, detachedAt };
    }
    return UNKNOWN;
  }
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
