import ts from 'typescript';
import { Bindings, stripExpression } from './bindings.js';
import { typeOfExpression } from './declared-types.js';
import { isLibraryDeclaration, libraryClassOf, libraryClassOfExpression } from './library.js';

/** Library modules that hold other modules: what they hold is not known from their class. */
const CONTAINERS: ReadonlySet<string> = new Set(['Sequential', 'ModuleList', 'ModuleDict', 'Module']);
import { LIMITS } from './limits.js';

/**
 * Where parameters live, as paths from a root variable: `model.encoder`, `this.layer1.weight`,
 * `net.0` (`Sequential.at(0)`). An optimizer holds a set of paths, a freezing loop freezes one;
 * two paths overlap when one is a prefix of the other. `partial` marks "some of the parameters
 * under this path" (a filter, a condition in the loop): a partial set is only known to overlap
 * what lies wholly above it.
 */
export interface ParamPath {
  readonly root: string;
  readonly segments: readonly string[];
  readonly partial: boolean;
  readonly node: ts.Node;
  /** For an instance of a model class of the program, the root its methods use (`this`), so `model.layer1` meets `this.layer1`. */
  readonly classRoot?: string;
}

function sameRoot(a: ParamPath, b: ParamPath): boolean {
  return (
    a.root === b.root || (a.classRoot !== undefined && a.classRoot === b.root) || (b.classRoot !== undefined && b.classRoot === a.root)
  );
}

/**
 * Items (freezes, backwards) by the roots of their paths: which of them have a path that can share a
 * root with a given one (`sameRoot`), so that a file with a thousand experiments never pairs every
 * item with every question. A superset: callers still test the paths themselves.
 */
export class RootIndex<T> {
  private readonly byRoot = new Map<string, Set<T>>();
  private readonly order = new Map<T, number>();

  add(item: T, path: ParamPath): void {
    if (!this.order.has(item)) this.order.set(item, this.order.size);
    for (const root of [path.root, path.classRoot]) {
      if (root === undefined) continue;
      const items = this.byRoot.get(root);
      if (items) items.add(item);
      else this.byRoot.set(root, new Set([item]));
    }
  }

  /** The items with a path that can share a root with one of `paths`, in the order they were added. */
  sharingRootWith(...paths: readonly ParamPath[]): T[] {
    const found = new Set<T>();
    for (const path of paths)
      for (const root of [path.root, path.classRoot])
        for (const item of root === undefined ? [] : (this.byRoot.get(root) ?? [])) found.add(item);
    return [...found].sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
  }
}

/** `a` is `b` or lies above it (`model` above `model.encoder.0`). */
export function isPrefix(a: ParamPath, b: ParamPath): boolean {
  return sameRoot(a, b) && a.segments.length <= b.segments.length && a.segments.every((s, i) => b.segments[i] === s);
}

/** Whether parameters held through `held` are certainly among those `touched` reaches (or the reverse). */
export function pathsOverlap(held: ParamPath, touched: ParamPath): boolean {
  return (isPrefix(held, touched) && !held.partial) || (isPrefix(touched, held) && !touched.partial);
}

export class ModulePaths {
  private readonly pathMemo = new Map<ts.Expression, ParamPath | undefined>();

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly bindings: Bindings,
    private readonly containers: ReadonlyMap<ts.Symbol, { readonly container: ts.NewExpression; readonly index: number }>,
  ) {}

  /** The path of a module or parameter expression, following `const` aliases. */
  pathOf(expression: ts.Expression, depth = 0): ParamPath | undefined {
    // Rules ask for the same receivers over and over; only top-level answers are memoised, so the
    // alias depth limit applies exactly as before.
    if (depth > 0) return this.computePath(expression, depth);
    if (this.pathMemo.has(expression)) return this.pathMemo.get(expression);
    const path = this.computePath(expression, 0);
    this.pathMemo.set(expression, path);
    return path;
  }

  private computePath(expression: ts.Expression, depth: number): ParamPath | undefined {
    if (depth > LIMITS.aliasDepth) return undefined;
    const expr = stripExpression(expression);
    if (expr.kind === ts.SyntaxKind.ThisKeyword) {
      const cls = ts.findAncestor(expr, ts.isClassLike);
      const symbol = cls?.name ? this.bindings.symbolOf(cls.name) : undefined;
      return symbol ? { root: `this${String(this.bindings.idOf(symbol))}`, segments: [], partial: false, node: expr } : undefined;
    }
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      if (def?.kind === 'expression') {
        const init = stripExpression(def.expression);
        if (ts.isIdentifier(init) || ts.isPropertyAccessExpression(init) || isAtCall(init) || ts.isElementAccessExpression(init)) {
          const aliased = this.pathOf(init, depth + 1);
          return aliased ? { ...aliased, node: expr } : undefined;
        }
        // `const paramsK = this.encoderK.parameters()`: the list stands for the module's parameters.
        const listed = this.parameterListOf(init, depth + 1);
        if (listed) return { ...listed, node: expr };
      }
      const symbol = this.bindings.symbolOf(expr);
      if (!symbol || (!def && !isParameterOrConst(symbol))) return undefined;
      // `constructor(private readonly model: M)`: inside the constructor `model` is `this.model`
      // (unless the constructor assigns the name).
      const decl = symbol.valueDeclaration;
      if (
        decl &&
        ts.isParameter(decl) &&
        ts.isParameterPropertyDeclaration(decl, decl.parent) &&
        ts.isIdentifier(decl.name) &&
        this.bindings.writesOf(symbol).length === 0
      ) {
        const cls = decl.parent.parent;
        const classSymbol = cls.name ? this.bindings.symbolOf(cls.name) : undefined;
        if (classSymbol)
          return { root: `this${String(this.bindings.idOf(classSymbol))}`, segments: [decl.name.text], partial: false, node: expr };
      }
      // `new nn.Sequential(backbone, head)`: backbone is child 0 of the Sequential's holder.
      const contained = this.containers.get(symbol);
      const holder = contained ? holderName(contained.container) : undefined;
      if (contained && holder) {
        const base = this.pathOf(holder, depth + 1);
        if (base) return { ...base, segments: [...base.segments, String(contained.index)], node: expr };
      }
      return {
        root: `v${String(this.bindings.idOf(symbol))}`,
        segments: [],
        partial: false,
        node: expr,
        classRoot: this.classRootOf(expr),
      };
    }
    if (ts.isPropertyAccessExpression(expr)) {
      const base = this.pathOf(expr.expression, depth + 1);
      return base ? { ...base, segments: [...base.segments, expr.name.text], node: expr } : undefined;
    }
    // `paramsK[i]`: one of the parameters listed under a module's path (some of them).
    if (ts.isElementAccessExpression(expr)) {
      const list = stripExpression(expr.expression);
      const base = ts.isIdentifier(list) ? this.pathOf(list, depth + 1) : this.parameterListOf(list, depth + 1);
      return base && this.isParameterList(list) ? { ...base, partial: true, node: expr } : undefined;
    }
    if (isAtCall(expr)) {
      const base = this.pathOf(expr.expression.expression, depth + 1);
      const index = expr.arguments[0];
      return base ? { ...base, segments: [...base.segments, index.text], node: expr } : undefined;
    }
    return undefined;
  }

  /**
   * Whether a module expression certainly holds no parameters: a library layer such as `nn.Tanh` or
   * `nn.ReLU` (its class declares no `Parameter` field), found through `new …`, `const` aliases and
   * `Sequential.at(i)` of a `new nn.Sequential(…)`. Unknown modules, containers and user classes may hold some.
   */
  holdsNoParameters(expression: ts.Expression, depth = 0): boolean {
    return this.libraryLayerFields(expression, depth) === 'none';
  }

  /**
   * Whether a module expression certainly holds parameters: a library layer such as `nn.Linear`
   * whose class declares a non-optional `Parameter` field, found the same ways as holdsNoParameters.
   */
  holdsParameters(expression: ts.Expression): boolean {
    return this.libraryLayerFields(expression, 0) === 'parameters';
  }

  /** What a library layer's class declares: no tensor fields, a required Parameter field, or undefined (unknown, mixed). */
  private libraryLayerFields(expression: ts.Expression, depth: number): 'none' | 'parameters' | undefined {
    if (depth > LIMITS.aliasDepth) return undefined;
    const expr = stripExpression(expression);
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      return def?.kind === 'expression' ? this.libraryLayerFields(def.expression, depth + 1) : undefined;
    }
    if (isAtCall(expr)) {
      const container = this.constructionOf(expr.expression.expression, depth + 1);
      const child =
        container && libraryClassOfExpression(this.checker, container)?.className === 'Sequential'
          ? container.arguments?.[Number(expr.arguments[0].text)]
          : undefined;
      return child !== undefined && !ts.isSpreadElement(child) ? this.libraryLayerFields(child, depth + 1) : undefined;
    }
    if (!ts.isNewExpression(expr)) return undefined;
    const type = typeOfExpression(this.checker, expr);
    const cls = libraryClassOf(this.checker, type);
    const decl = type.getSymbol()?.valueDeclaration;
    if (cls?.kind !== 'module' || !decl || !isLibraryDeclaration(decl) || CONTAINERS.has(cls.className)) return undefined;
    const kinds = this.checker.getPropertiesOfType(type).map((prop) => {
      const propType = this.checker.getTypeOfSymbol(prop);
      const parts = propType.isUnion() ? propType.types : [propType];
      const libraryKinds = parts.map((t) => libraryClassOf(this.checker, t)?.kind);
      if (libraryKinds.some((k) => k === 'parameter' || k === 'module' || k === 'tensor'))
        return libraryKinds.length === 1 && libraryKinds[0] === 'parameter' ? 'parameter' : 'other';
      return 'none';
    });
    if (kinds.every((k) => k === 'none')) return 'none';
    return kinds.includes('parameter') ? 'parameters' : undefined;
  }

  private constructionOf(expression: ts.Expression, depth: number): ts.NewExpression | undefined {
    if (depth > LIMITS.aliasDepth) return undefined;
    const expr = stripExpression(expression);
    if (ts.isNewExpression(expr)) return expr;
    if (!ts.isIdentifier(expr)) return undefined;
    const def = this.bindings.definition(expr);
    return def?.kind === 'expression' ? this.constructionOf(def.expression, depth + 1) : undefined;
  }

  /**
   * The `new …` a module expression was built by, through `const` aliases and `Sequential.at(i)` of
   * a `new nn.Sequential(…)` (typed as a plain Module): `model.at(0)` → `new nn.Linear(4, 6)`.
   */
  construction(expression: ts.Expression, depth = 0): ts.NewExpression | undefined {
    if (depth > LIMITS.aliasDepth) return undefined;
    const expr = stripExpression(expression);
    if (isAtCall(expr)) {
      const container = this.construction(expr.expression.expression, depth + 1);
      if (!container || libraryClassOfExpression(this.checker, container)?.className !== 'Sequential') return undefined;
      const child = container.arguments?.[Number(expr.arguments[0].text)];
      return child && !ts.isSpreadElement(child) ? this.construction(child, depth + 1) : undefined;
    }
    return this.constructionOf(expr, depth);
  }

  /** The layers of a module built as `new nn.Sequential(…)` (through aliases and `at(i)`), in order. */
  sequentialLayers(expression: ts.Expression): readonly ts.Expression[] | undefined {
    const built = this.construction(expression);
    return built && libraryClassOfExpression(this.checker, built)?.className === 'Sequential' ? built.arguments : undefined;
  }

  /** `m.parameters()` of a module: the module's path. */
  private parameterListOf(expression: ts.Expression, depth: number): ParamPath | undefined {
    const expr = stripExpression(expression);
    if (!ts.isCallExpression(expr) || !ts.isPropertyAccessExpression(expr.expression) || expr.expression.name.text !== 'parameters')
      return undefined;
    if (libraryClassOfExpression(this.checker, expr.expression.expression)?.kind !== 'module') return undefined;
    return this.pathOf(expr.expression.expression, depth);
  }

  /** Whether an expression is a list of parameters (`Parameter[]`, by its type). */
  private isParameterList(expression: ts.Expression): boolean {
    const type = typeOfExpression(this.checker, expression);
    const element = this.checker.isArrayType(type) ? this.checker.getTypeArguments(type as ts.TypeReference).at(0) : undefined;
    return element !== undefined && libraryClassOf(this.checker, element)?.kind === 'parameter';
  }

  private classRootOf(expr: ts.Expression): string | undefined {
    const symbol = typeOfExpression(this.checker, expr).getSymbol();
    const decl = symbol?.valueDeclaration;
    if (!symbol || !decl || !ts.isClassDeclaration(decl) || decl.getSourceFile().isDeclarationFile) return undefined;
    return `this${String(this.bindings.idOf(symbol))}`;
  }

  /**
   * The parameters an optimizer is given, as paths: `m.parameters()`, `m.namedParameters()`
   * (mapped to values), arrays, spreads, `.filter(…)` (partial unless it keeps `requiresGrad`),
   * param groups `[{ params: … }]`, and `const` aliases of those. Undefined when unknown.
   */
  paramSources(expression: ts.Expression, depth = 0): ParamPath[] | undefined {
    if (depth > LIMITS.aliasDepth) return undefined;
    const expr = stripExpression(expression);
    if (ts.isIdentifier(expr)) {
      const def = this.bindings.definition(expr);
      return def?.kind === 'expression' ? this.paramSources(def.expression, depth + 1) : undefined;
    }
    if (ts.isArrayLiteralExpression(expr)) {
      const out: ParamPath[] = [];
      for (const element of expr.elements) {
        const sources = ts.isSpreadElement(element)
          ? this.paramSources(element.expression, depth + 1)
          : ts.isObjectLiteralExpression(element)
            ? this.groupSources(element, depth + 1)
            : this.tensorPath(element, depth + 1);
        if (!sources) return undefined;
        out.push(...sources);
      }
      return out;
    }
    if (ts.isCallExpression(expr) && ts.isPropertyAccessExpression(expr.expression)) {
      const method = expr.expression.name.text;
      const receiver = expr.expression.expression;
      if (method === 'parameters' || method === 'namedParameters') {
        if (libraryClassOfExpression(this.checker, receiver)?.kind !== 'module') return undefined;
        const path = this.pathOf(receiver, depth + 1);
        return path ? [{ ...path, node: expr }] : undefined;
      }
      if (method === 'filter') {
        const base = this.paramSources(receiver, depth + 1);
        const keepsAll = isRequiresGradFilter(expr.arguments[0]);
        return base?.map((p) => ({ ...p, partial: p.partial || !keepsAll }));
      }
      if (method === 'map' || method === 'slice' || method === 'values') {
        const base = this.paramSources(receiver, depth + 1);
        return method === 'slice' && expr.arguments.length > 0 ? base?.map((p) => ({ ...p, partial: true })) : base;
      }
      if (method === 'concat') {
        const parts = [receiver, ...expr.arguments].map((e) => this.paramSources(e, depth + 1));
        return parts.every((p) => p !== undefined) ? parts.flat() : undefined;
      }
    }
    return undefined;
  }

  private groupSources(group: ts.ObjectLiteralExpression, depth: number): ParamPath[] | undefined {
    for (const prop of group.properties) {
      if (prop.name && ts.isIdentifier(prop.name) && prop.name.text === 'params') {
        if (ts.isPropertyAssignment(prop)) return this.paramSources(prop.initializer, depth);
        if (ts.isShorthandPropertyAssignment(prop)) return this.paramSources(prop.name, depth);
      }
    }
    return undefined;
  }

  private tensorPath(element: ts.Expression, depth: number): ParamPath[] | undefined {
    const path = this.pathOf(element, depth);
    return path ? [path] : undefined;
  }
}

/** The variable a `new …` is stored in (`const model = new nn.Sequential(…)`). */
function holderName(node: ts.NewExpression): ts.Identifier | undefined {
  const parent = node.parent;
  return ts.isVariableDeclaration(parent) && parent.initializer === node && ts.isIdentifier(parent.name) ? parent.name : undefined;
}

function isAtCall(
  expr: ts.Expression,
): expr is ts.CallExpression & { expression: ts.PropertyAccessExpression; arguments: ts.NodeArray<ts.NumericLiteral> } {
  return (
    ts.isCallExpression(expr) &&
    ts.isPropertyAccessExpression(expr.expression) &&
    expr.expression.name.text === 'at' &&
    expr.arguments.length === 1 &&
    ts.isNumericLiteral(expr.arguments[0])
  );
}

function isParameterOrConst(symbol: ts.Symbol): boolean {
  const decl = symbol.valueDeclaration;
  if (!decl) return false;
  if (ts.isParameter(decl)) return true;
  return ts.isVariableDeclaration(decl) && ts.isVariableDeclarationList(decl.parent) && (decl.parent.flags & ts.NodeFlags.Const) !== 0;
}

/** `(p) => p.requiresGrad` and `([, p]) => p.requiresGrad`: keeps exactly the trainable ones. */
function isRequiresGradFilter(callback: ts.Expression | undefined): boolean {
  if (!callback || !ts.isArrowFunction(callback)) return false;
  const body = ts.isBlock(callback.body) ? undefined : stripExpression(callback.body);
  return body !== undefined && ts.isPropertyAccessExpression(body) && body.name.text === 'requiresGrad' && ts.isIdentifier(body.expression);
}

/** A name prefix that ends at a module's name (`'trunk.'`, `'0.'`, `'encoder.layers.0.'`), or `''` (every name). */
export function isModulePrefix(text: string): boolean {
  return text === '' || /^[\w$]+(\.[\w$]+)*\.$/.test(text);
}

/** `'encoder.layers.0.'` → `['encoder', 'layers', '0']`; `''` → `[]`. */
export function modulePrefixSegments(text: string): string[] {
  return text === '' ? [] : text.slice(0, -1).split('.');
}
