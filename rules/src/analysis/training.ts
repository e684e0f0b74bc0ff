import ts from 'typescript';
import { propertyOf, stripExpression, type Bindings } from './bindings.js';
import type { FileIndex, MethodCall, OptimizerSite, RequiresGradWrite } from './file-index.js';
import { conditionalBetween, type Flow } from './flow.js';
import { enclosingFunction, returnedValues } from './syntax.js';
import { isPrefix, pathsOverlap, RootIndex, type ModulePaths, type ParamPath } from './modules.js';
import { callsIntoOtherFiles } from './program-calls.js';
import { freezesThrough, requiresGradWritesThrough } from './helper-writes.js';
import { constructedOptimizer, heldThrough, helperOf, type Helper } from './summaries.js';
import { LIMITS } from './limits.js';
import { isConditionalWithin, namePrefixSegments, type NamePrefix } from './freeze-shapes.js';

/** A `requiresGrad = false` / `requiresGrad_(false)` and the parameters it reaches. */
export interface Freeze {
  readonly write: RequiresGradWrite;
  readonly paths: readonly ParamPath[];
  /** For a helper of another file called here (`write.node` is the call): the writes in its body. */
  readonly via?: readonly ts.Node[];
  /** What a helper's freeze freezes, in the caller's names, for messages. */
  readonly label?: string;
  /** For a freeze by name prefix that is a parameter of the enclosing function (`name.startsWith(prefix)`): its index. */
  readonly prefixParameter?: number;
}

/**
 * Training-loop facts: which optimizer holds which parameters, how stateful it is, and where
 * parameters are frozen or unfrozen (here, or by helpers of other files at their calls). Where
 * gradient flow is cut on the way to a backward is reach.ts's.
 */
export class TrainingFacts {
  private freezeList: Freeze[] | undefined;
  private unfreezeList: Freeze[] | undefined;
  private readonly heldMemo = new Map<OptimizerSite, ParamPath[] | undefined>();
  private readonly optimizerMemo = new Map<ts.Expression, OptimizerSite | undefined>();
  private byNode: Map<ts.Node, OptimizerSite> | undefined;
  private byHolder: Map<string, OptimizerSite[]> | undefined;
  private factoryMemo: Map<OptimizerSite, { helper: Helper; site: OptimizerSite }> | undefined;
  private unknownTarget: boolean | undefined;
  private readonly frozenPathsMemo = new Map<RequiresGradWrite, ParamPath[]>();
  private readonly namePrefixMemo = new Map<RequiresGradWrite, NamePrefix | undefined>();
  private readonly freezesOfMemo = new Map<OptimizerSite, { freeze: Freeze; held: ParamPath; frozen: ParamPath }[]>();
  private freezeRoots: RootIndex<Freeze> | undefined;
  private stepsBySite: Map<OptimizerSite | undefined, ts.CallExpression[]> | undefined;
  private zeroGradsBySite: Map<OptimizerSite | 'modules', MethodCall[]> | undefined;

  constructor(
    private readonly index: FileIndex,
    private readonly flow: Flow,
    private readonly paths: ModulePaths,
    private readonly bindings: Bindings,
    private readonly program?: ts.Program,
    private readonly sourceFile?: ts.SourceFile,
  ) {}

  held(site: OptimizerSite): readonly ParamPath[] | undefined {
    if (!this.heldMemo.has(site)) {
      const factory = this.factories().get(site);
      this.heldMemo.set(
        site,
        factory
          ? heldThrough(factory.helper, factory.site, site.node, this.paths)
          : site.params
            ? this.paths.paramSources(site.params)
            : undefined,
      );
    }
    return this.heldMemo.get(site);
  }

  /** The optimizers this file builds, and those helpers of other files build for it (`const opt = makeOptimizer(model)`). */
  optimizerSites(): readonly OptimizerSite[] {
    return [...this.index.optimizers, ...this.factories().keys()];
  }

  /**
   * Calls of helpers of other files that return one optimizer they build (every return is the
   * same `new optim.X(…)`): each call is an optimizer site of this file, holding what the
   * construction holds with the helper's parameters read as the call's arguments.
   */
  private factories(): ReadonlyMap<OptimizerSite, { helper: Helper; site: OptimizerSite }> {
    if (this.factoryMemo) return this.factoryMemo;
    const out = new Map<OptimizerSite, { helper: Helper; site: OptimizerSite }>();
    this.factoryMemo = out;
    if (!this.program || !this.sourceFile) return out;
    for (const call of callsIntoOtherFiles(this.program, this.sourceFile)) {
      const helper = helperOf(this.program, call);
      const returned = helper ? returnedValues(helper.declaration).map((e) => stripExpression(e)) : [];
      const built = helper?.analysis.index.optimizers.find((o) => o.node === returned[0]);
      if (!helper || !built || returned.some((e) => e !== built.node)) continue;
      out.set(
        { node: call, className: built.className, params: undefined, options: built.options, builtIn: built.node as ts.NewExpression },
        { helper, site: built },
      );
    }
    // `new Trainer(model)` of a class of another file whose constructor builds one optimizer.
    for (const expr of newExpressions(this.sourceFile)) {
      const found = constructedOptimizer(this.program, expr);
      if (!found) continue;
      const built = found.site;
      out.set(
        { node: expr, className: built.className, params: undefined, options: built.options, builtIn: built.node as ts.NewExpression },
        found,
      );
    }
    return out;
  }

  /**
   * Whether `step()` moves a parameter whose gradient is zero: Adam/AdamW always (their moments
   * and AdamW's decoupled weight decay), SGD/RMSprop with literal `momentum` or `weightDecay` > 0.
   * Undefined when an option is not a literal.
   */
  movesOnZeroGrad(site: OptimizerSite): boolean | undefined {
    if (site.className === 'Adam' || site.className === 'AdamW') return true;
    if (site.className !== 'SGD' && site.className !== 'RMSprop') return undefined;
    if (!site.options) return false;
    const options = stripExpression(site.options);
    if (!ts.isObjectLiteralExpression(options)) return undefined;
    let moves = false;
    for (const prop of options.properties) {
      if (!ts.isPropertyAssignment(prop) || !ts.isIdentifier(prop.name)) return undefined;
      if (prop.name.text !== 'momentum' && prop.name.text !== 'weightDecay') continue;
      const value = stripExpression(prop.initializer);
      if (!ts.isNumericLiteral(value)) return undefined;
      if (Number(value.text) > 0) moves = true;
    }
    return moves;
  }

  /** The optimizer construction an expression refers to (`opt`, `this.opt`), when there is exactly one. */
  optimizerOf(expression: ts.Expression, depth = 0): OptimizerSite | undefined {
    // Rules ask this for every step/zeroGrad pair: answer each expression once (only top-level
    // calls are memoised, so the depth limit of the recursion stays exactly as it was).
    if (depth > 0) return this.resolveOptimizer(expression, depth);
    if (this.optimizerMemo.has(expression)) return this.optimizerMemo.get(expression);
    const site = this.resolveOptimizer(expression, 0);
    this.optimizerMemo.set(expression, site);
    return site;
  }

  private resolveOptimizer(expression: ts.Expression, depth: number): OptimizerSite | undefined {
    const expr = stripExpression(expression);
    const direct = this.optimizersByNode().get(expr);
    if (direct) return direct;
    // A helper's parameter: the optimizer every call site passes, when it is the same one.
    const symbol = ts.isIdentifier(expr) ? this.bindings.symbolOf(expr) : undefined;
    const decl = symbol?.valueDeclaration;
    if (decl && ts.isParameter(decl) && depth < LIMITS.optimizerArgumentDepth) {
      const sites = this.bindings.argumentsFor(decl)?.map((a) => this.optimizerOf(a, depth + 1));
      const first = sites?.[0];
      return first && sites.every((s) => s === first) ? first : undefined;
    }
    const key = this.pathKey(expr);
    if (key === undefined) return undefined;
    const matches = this.optimizersByHolder().get(key);
    return matches?.length === 1 ? matches[0] : undefined;
  }

  private optimizersByNode(): ReadonlyMap<ts.Node, OptimizerSite> {
    this.byNode ??= new Map(this.optimizerSites().map((o) => [o.node, o]));
    return this.byNode;
  }

  /** Optimizers by where they are stored, in file order (computed once: a path key costs checker calls). */
  private optimizersByHolder(): ReadonlyMap<string, readonly OptimizerSite[]> {
    if (this.byHolder) return this.byHolder;
    const byHolder = new Map<string, OptimizerSite[]>();
    for (const site of this.optimizerSites()) {
      const key = this.holderKey(site);
      if (key === undefined) continue;
      const list = byHolder.get(key);
      if (list) list.push(site);
      else byHolder.set(key, [site]);
    }
    this.byHolder = byHolder;
    return byHolder;
  }

  /** The path key of where an optimizer is stored; a class field `opt = new …` is `this.opt`. */
  private holderKey(site: OptimizerSite): string | undefined {
    const holder = holderOf(site.node);
    if (!holder) return undefined;
    const field = holder.parent;
    if (ts.isPropertyDeclaration(field) && ts.isClassLike(field.parent)) {
      const cls = field.parent.name ? this.bindings.symbolOf(field.parent.name) : undefined;
      return cls ? `this${String(this.bindings.idOf(cls))}.${holder.getText()}` : undefined;
    }
    return this.pathKey(holder);
  }

  private pathKey(expr: ts.Expression): string | undefined {
    const path = this.paths.pathOf(expr);
    return path ? [path.root, ...path.segments].join('.') : undefined;
  }

  /** Freezes of this file, and calls of helpers of other files that freeze what they are given (at the call). */
  freezes(): readonly Freeze[] {
    this.freezeList ??= [
      ...this.index.requiresGradWrites
        .filter((w) => w.flag === false)
        .map((write) => ({ write, paths: this.frozenPaths(write), prefixParameter: this.namePrefixParameter(write) })),
      ...this.helperFreezes(false),
    ].filter((f) => f.paths.length > 0);
    return this.freezeList;
  }

  /** `requiresGrad = true` / `requiresGrad_()` writes and the parameters they unfreeze (helpers' too). */
  unfreezes(): readonly Freeze[] {
    this.unfreezeList ??= [
      ...this.index.requiresGradWrites.filter((w) => w.flag === true).map((write) => ({ write, paths: this.frozenPaths(write) })),
      ...this.helperFreezes(true),
    ].filter((f) => f.paths.length > 0);
    return this.unfreezeList;
  }

  private helperFreezes(flag: boolean): Freeze[] {
    if (!this.program || !this.sourceFile) return [];
    const out: Freeze[] = [];
    for (const call of callsIntoOtherFiles(this.program, this.sourceFile)) {
      const helper = helperOf(this.program, call);
      if (!helper) continue;
      const { paths, writes, labels } = freezesThrough(helper, call, this.paths, flag);
      // `freezeAll(teacher.parameters())`: a helper iterating what it is given freezes those parameters.
      for (const through of requiresGradWritesThrough(helper, call)) {
        const sources = through.iterated && through.flag === flag ? this.paths.paramSources(through.tensor) : undefined;
        for (const source of sources ?? []) {
          paths.push({ ...source, node: call });
          writes.push(through.write);
          labels.push(through.tensor.getText());
        }
      }
      if (paths.length > 0)
        out.push({
          write: { node: call, target: call.expression, flag },
          paths,
          via: writes,
          label: `${labels.join(', ')} (in ${helper.name})`,
        });
    }
    return out;
  }

  /** What a freeze reaches: a loop over `m.parameters()` freezes `m` (partly when conditional), `m.fc.weight` itself. */
  private frozenPaths(write: RequiresGradWrite): ParamPath[] {
    let known = this.frozenPathsMemo.get(write);
    if (!known) {
      known = this.computeFrozenPaths(write);
      this.frozenPathsMemo.set(write, known);
    }
    return known;
  }

  private computeFrozenPaths(write: RequiresGradWrite): ParamPath[] {
    const target = stripExpression(write.target);
    if (ts.isIdentifier(target)) {
      const def = this.bindings.definition(target);
      if (def?.kind === 'element') {
        const sources = this.paths.paramSources(def.of) ?? [];
        // `if (name.startsWith('trunk.'))` over `m.namedParameters()`: all of `m.trunk`.
        const segments = this.namePrefixOf(write)?.segments;
        if (segments) return sources.map((p) => ({ ...p, segments: [...p.segments, ...segments] }));
        const conditional = isConditionalWithin(write.node, def.at, true);
        return sources.map((p) => ({ ...p, partial: p.partial || conditional }));
      }
    }
    const path = this.paths.pathOf(target);
    return path ? [path] : [];
  }

  /**
   * Whether parameters under `path` may be frozen somewhere in the program's view from this file:
   * a freeze here (or by a helper of another file) above or below it, or a freeze whose target is
   * unknown. Used to stay silent where what a layer saves depends on its weights needing a gradient.
   * With `whole`, only a freeze of the whole of `path` (or of something above it) counts; with
   * `before`, only a freeze that may run before that node.
   */
  mayBeFrozen(path: ParamPath, whole = false, before?: ts.Node): boolean {
    // Asked for every module call of the file (values.frozen): the unknown-target scan is done
    // once, and the order question only for the freezes that reach `path`.
    this.unknownTarget ??= this.index.requiresGradWrites.some((w) => w.flag === false && this.frozenPaths(w).length === 0);
    if (this.unknownTarget) return true;
    // Only freezes with a path under the same root (or class root) can reach `path`.
    for (const f of this.freezesSharingRoot(path)) {
      if (
        f.paths.some((p) => (isPrefix(p, path) && !(whole && p.partial)) || (!whole && isPrefix(path, p))) &&
        (before === undefined || this.mayFollow(f.write.node, before, true))
      )
        return true;
    }
    return false;
  }

  /**
   * Whether every parameter under `path` is frozen before `node`'s loop (or `node`) starts,
   * unconditionally, in the same function (`for (const p of model.at(0).parameters()) p.requiresGrad
   * = false` above the loop), and nothing sets requiresGrad back on what may be a parameter (an
   * unfreeze, or a flag that is not a literal: not for good). `mayBeFrozen` asks whether a freeze may
   * happen; this asks whether one certainly has.
   */
  frozenForGoodBefore(path: ParamPath, node: ts.Node): boolean {
    // (An unfreeze of something else, `w.requiresGrad = true` on a created tensor, does not matter.)
    const touches = (p: ParamPath): boolean => isPrefix(p, path) || isPrefix(path, p);
    const unfreezes = this.index.requiresGradWrites.some((w) => {
      if (w.flag === false) return false;
      const targets = this.frozenPaths(w);
      return targets.length === 0 ? w.flag === undefined : targets.some(touches);
    });
    if (unfreezes || this.unfreezes().some((f) => f.paths.some(touches))) return false;
    const fn = enclosingFunction(node);
    return this.freezes().some((f) => {
      // (A helper of another file that freezes what it is given counts at its call: `freezeModule(model.at(0))`.)
      if (!f.paths.some((p) => !p.partial && isPrefix(p, path))) return false;
      if (f.write.node.getSourceFile() !== node.getSourceFile() || f.write.node.getEnd() > node.getStart()) return false;
      // Through the inline callback of `ps.forEach((p) => { p.requiresGrad = false; })`, which runs where it is passed.
      // A freeze by name prefix (`if (name.startsWith('trunk.'))`) is certain for the module it names.
      let at: ts.Node = this.namePrefixGuard(f.write) ?? f.write.node;
      let inner = enclosingFunction(at);
      while (inner !== fn && (ts.isArrowFunction(inner) || ts.isFunctionExpression(inner)) && ts.isCallExpression(inner.parent)) {
        if (conditionalBetween(at, inner)) return false;
        at = inner.parent;
        inner = enclosingFunction(at);
      }
      return inner === fn && !conditionalBetween(at, fn);
    });
  }

  /** A freeze by name prefix (`if (name.startsWith('trunk.'))` in a loop over `m.namedParameters()`): what the prefix names (memoised per write). */
  private namePrefixOf(write: RequiresGradWrite): NamePrefix | undefined {
    if (this.namePrefixMemo.has(write)) return this.namePrefixMemo.get(write);
    const target = stripExpression(write.target);
    const def = ts.isIdentifier(target) ? this.bindings.definition(target) : undefined;
    const found = def?.kind === 'element' && def.pairValue ? namePrefixSegments(write.node, def.at) : undefined;
    this.namePrefixMemo.set(write, found);
    return found;
  }

  /** For `if (name.startsWith(prefix))` where `prefix` is a parameter of the function around the loop: that parameter's index. */
  private namePrefixParameter(write: RequiresGradWrite): number | undefined {
    const found = this.namePrefixOf(write);
    if (!found || found.segments || !found.parameter) return undefined;
    const decl = this.bindings.symbolOf(found.parameter)?.valueDeclaration;
    return decl && ts.isParameter(decl) && ts.isFunctionLike(decl.parent) ? decl.parent.parameters.indexOf(decl) : undefined;
  }

  /** The `if (name.startsWith('…'))` that a freeze by name prefix runs under, if that is its only condition. */
  private namePrefixGuard(write: RequiresGradWrite): ts.IfStatement | undefined {
    return this.namePrefixOf(write)?.guard;
  }

  /** Freezes that reach parameters the optimizer holds. */
  freezesOf(site: OptimizerSite): readonly { freeze: Freeze; held: ParamPath; frozen: ParamPath }[] {
    let out = this.freezesOfMemo.get(site);
    if (out) return out;
    out = [];
    this.freezesOfMemo.set(site, out);
    const held = this.held(site);
    if (!held) return out;
    // Only freezes whose paths share a root with a held path can overlap it (asked for every
    // optimizer of a file: a notebook with a thousand experiments must not pair them all).
    for (const freeze of this.freezesSharingRoot(...held)) {
      for (const frozen of freeze.paths) {
        const h = held.find((p) => pathsOverlap(p, frozen));
        if (h) {
          out.push({ freeze, held: h, frozen });
          break;
        }
      }
    }
    return out;
  }

  /** The freezes with a path that can share a root with one of `paths` (`RootIndex`), in file order. */
  freezesSharingRoot(...paths: readonly ParamPath[]): readonly Freeze[] {
    if (!this.freezeRoots) {
      this.freezeRoots = new RootIndex<Freeze>();
      for (const freeze of this.freezes()) for (const path of freeze.paths) this.freezeRoots.add(freeze, path);
    }
    return this.freezeRoots.sharingRootWith(...paths);
  }

  /**
   * The file's `zeroGrad()` calls: an optimizer's own by the optimizer they clear, and every module's
   * (`model.zeroGrad()`), in file order (grouped once: rules ask for every zeroGrad and freeze).
   */
  zeroGradsOf(site: OptimizerSite | 'modules'): readonly MethodCall[] {
    if (!this.zeroGradsBySite) {
      this.zeroGradsBySite = new Map();
      for (const m of this.index.methodCalls) {
        if (m.method !== 'zeroGrad' || (m.receiverClass.kind !== 'optimizer' && m.receiverClass.kind !== 'module')) continue;
        const key = m.receiverClass.kind === 'module' ? 'modules' : this.optimizerOf(m.receiver);
        if (key === undefined) continue;
        const list = this.zeroGradsBySite.get(key);
        if (list) list.push(m);
        else this.zeroGradsBySite.set(key, [m]);
      }
    }
    return this.zeroGradsBySite.get(site) ?? [];
  }

  /**
   * The `zeroGrad()` calls that clear every parameter under `paths` that `site` holds: the
   * optimizer's own, and with `modules` a module's whose path lies above each of `paths`; with
   * `setToNone`, only those that set the gradients to null.
   */
  clearsCovering(site: OptimizerSite, paths: readonly ParamPath[], options: { modules: boolean; setToNone: boolean }): MethodCall[] {
    const candidates = options.modules ? [...this.zeroGradsOf(site), ...this.zeroGradsOf('modules')] : this.zeroGradsOf(site);
    return candidates.filter((m) => {
      if (options.setToNone && !setsToNone(m.call)) return false;
      if (m.receiverClass.kind === 'optimizer') return true;
      const module = this.paths.pathOf(m.receiver);
      return module !== undefined && !module.partial && paths.every((p) => isPrefix(module, p));
    });
  }

  /** The `step()` calls of the file by the optimizer they step, in file order (grouped once). */
  stepsOf(site: OptimizerSite | undefined): readonly ts.CallExpression[] {
    if (!this.stepsBySite) {
      this.stepsBySite = new Map();
      for (const m of this.index.methodCalls) {
        if (m.method !== 'step' || m.receiverClass.kind !== 'optimizer') continue;
        const stepped = this.optimizerOf(m.receiver);
        const list = this.stepsBySite.get(stepped);
        if (list) list.push(m.call);
        else this.stepsBySite.set(stepped, [m.call]);
      }
    }
    return this.stepsBySite.get(site) ?? [];
  }

  /** Whether `b` can run after `a` (re-exported for rules that combine training facts with order). */
  mayFollow(a: ts.Node, b: ts.Node, loops = false): boolean {
    return this.flow.mayFollow(a, b, { loops });
  }
}

/** `zeroGrad({ setToNone: true })`: it sets gradients to null rather than filling them with zeros. */
export function setsToNone(zeroGrad: ts.CallExpression): boolean {
  return propertyOf(zeroGrad.arguments.at(0), 'setToNone')?.kind === ts.SyntaxKind.TrueKeyword;
}

/** Where an optimizer is stored: `const opt = new SGD(…)`, `this.opt = new SGD(…)`. */
export function holderOf(node: ts.Node): ts.Expression | undefined {
  let cur = node;
  while (ts.isParenthesizedExpression(cur.parent) || ts.isAsExpression(cur.parent)) cur = cur.parent;
  const parent = cur.parent;
  if (ts.isVariableDeclaration(parent) && parent.initializer === cur && ts.isIdentifier(parent.name)) return parent.name;
  if (ts.isBinaryExpression(parent) && parent.right === cur && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken) return parent.left;
  if (ts.isPropertyDeclaration(parent) && parent.initializer === cur && ts.isIdentifier(parent.name)) return parent.name;
  return undefined;
}

const newExpressionsByFile = new WeakMap<ts.SourceFile, readonly ts.NewExpression[]>();

/** The `new` expressions of a file (once per SourceFile). */
function newExpressions(file: ts.SourceFile): readonly ts.NewExpression[] {
  let found = newExpressionsByFile.get(file);
  if (!found) {
    const out: ts.NewExpression[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node)) out.push(node);
      ts.forEachChild(node, visit);
    };
    visit(file);
    found = out;
    newExpressionsByFile.set(file, found);
  }
  return found;
}
