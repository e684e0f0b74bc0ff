import ts from 'typescript';
import { stripExpression } from './bindings.js';
import { getFileAnalysis, safely, type FileAnalysis } from './file-analysis.js';
import { libraryClassOf, type LibraryKind } from './library.js';
import { pathsOverlap, type ParamPath } from './modules.js';
import { holderOf } from './training.js';
import type { Tri } from './values.js';

/** A place in a file: 1-based line, 0-based column (ESLint's `loc` convention), and the code there. */
export interface SourceLocation {
  readonly fileName: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly text: string;
}

/** What the hover shows for a tensor, parameter, module or optimizer. Plain data, no markup. */
export interface GradientStatus {
  readonly kind: LibraryKind;
  /** The library class (or nearest library base): `Tensor`, `Parameter`, `Linear`, `Module`, `Adam`… */
  readonly className: string;
  /** The hovered expression's source text. */
  readonly name: string;
  /** Tensors and parameters: does it require grad / is it a leaf, as far as the analysis knows. */
  readonly requiresGrad?: Tri;
  readonly leaf?: Tri;
  /** Where it was computed with recording off, when it was. */
  readonly computedUnderNoGrad?: SourceLocation;
  /** Grad mode at the hovered position: 'off' inside a noGrad callback. */
  readonly gradMode: 'on' | 'off' | 'unknown';
  /** Freezes (`requiresGrad = false`) that reach it (for a module: its parameters). */
  readonly frozenAt: readonly SourceLocation[];
  /** Optimizers that hold it (for a module: some of its parameters). */
  readonly heldBy: readonly { readonly optimizer: string; readonly className: string; readonly at: SourceLocation }[];
  /** Optimizers only: what they hold and whether a zero gradient still moves a parameter. */
  readonly holds?: readonly string[];
  readonly movesOnZeroGrad?: boolean;
}

export function locationOf(node: ts.Node): SourceLocation {
  const sf = node.getSourceFile();
  const start = sf.getLineAndCharacterOfPosition(node.getStart());
  const end = sf.getLineAndCharacterOfPosition(node.getEnd());
  return {
    fileName: sf.fileName,
    line: start.line + 1,
    column: start.character,
    endLine: end.line + 1,
    endColumn: end.character,
    text: node.getText(),
  };
}

/** The innermost node whose text covers `position` (an offset into the file). */
function nodeAt(sourceFile: ts.SourceFile, position: number): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    if (node.getStart(sourceFile) <= position && position < node.getEnd()) {
      found = node;
      ts.forEachChild(node, visit);
    }
  };
  ts.forEachChild(sourceFile, visit);
  return found;
}

/**
 * Describes the gradient status of the tensor, parameter, module or optimizer at `position`
 * (a 0-based offset into `fileName`'s text) in `program`; undefined when there is none there.
 */
export function describeGradientStatus(program: ts.Program, fileName: string, position: number): GradientStatus | undefined {
  const sourceFile = program.getSourceFile(fileName);
  if (!sourceFile) return undefined;
  return safely(fileName, undefined, () => {
    const analysis = getFileAnalysis(program, sourceFile);
    const node = nodeAt(sourceFile, position);
    if (!analysis || !node || !ts.isIdentifier(node)) return undefined;
    const expression = ts.isPropertyAccessExpression(node.parent) && node.parent.name === node ? node.parent : node;
    return describe(analysis, expression);
  });
}

function describe(analysis: FileAnalysis, expression: ts.Expression): GradientStatus | undefined {
  const { checker, values, training, paths, bindings } = analysis;
  const cls = libraryClassOf(checker, checker.getTypeAtLocation(expression));
  if (!cls) return undefined;
  const base = { kind: cls.kind, className: cls.className, name: expression.getText(), gradMode: values.gradModeAt(expression) };
  if (cls.kind === 'optimizer') {
    const site = training.optimizerOf(expression);
    if (!site) return { ...base, frozenAt: [], heldBy: [] };
    return {
      ...base,
      frozenAt: training.freezesOf(site).map((f) => locationOf(f.freeze.write.node)),
      heldBy: [],
      holds: training.held(site)?.map((p) => p.node.getText()) ?? [],
      movesOnZeroGrad: training.movesOnZeroGrad(site),
    };
  }
  // A loop variable over `m.parameters()` stands for m's parameters.
  let reach: ParamPath[] = [];
  const stripped = stripExpression(expression);
  const def = ts.isIdentifier(stripped) ? bindings.definition(stripped) : undefined;
  if (def?.kind === 'element') reach = (paths.paramSources(def.of) ?? []).map((p) => ({ ...p, partial: true }));
  else {
    const path = paths.pathOf(expression);
    if (path) reach = [path];
  }
  const touches = (p: ParamPath): boolean => reach.some((r) => pathsOverlap(p, r) || pathsOverlap(r, { ...p, partial: false }));
  const frozenAt = training
    .freezes()
    .filter((f) => f.paths.some(touches))
    .map((f) => locationOf(f.write.node));
  const heldBy = training
    .optimizerSites()
    .filter((o) => training.held(o)?.some(touches))
    .map((o) => {
      const holder = holderOf(o.node);
      return { optimizer: holder ? holder.getText() : o.node.getText(), className: o.className, at: locationOf(o.node) };
    });
  if (cls.kind === 'module') return { ...base, frozenAt, heldBy };
  const value = values.evaluate(expression);
  return {
    ...base,
    requiresGrad: value.requiresGrad,
    leaf: value.leaf,
    ...(value.computedUnderNoGrad ? { computedUnderNoGrad: locationOf(value.computedUnderNoGrad) } : {}),
    frozenAt,
    heldBy,
  };
}

/** A short Markdown rendering of a status, for editors' hovers. */
export function formatGradientStatus(status: GradientStatus): string {
  const lines = [`**${status.name}**: gradflow \`${status.className}\``];
  const tri = (t: Tri | undefined): string => (t === 'yes' ? 'yes' : t === 'no' ? 'no' : 'unknown');
  if (status.requiresGrad !== undefined) lines.push(`- requires grad: ${tri(status.requiresGrad)}; leaf: ${tri(status.leaf)}`);
  if (status.computedUnderNoGrad) lines.push(`- computed under noGrad at line ${String(status.computedUnderNoGrad.line)}`);
  if (status.gradMode === 'off') lines.push('- here: inside noGrad (nothing is recorded)');
  for (const f of status.frozenAt) lines.push(`- frozen at line ${String(f.line)}: \`${f.text}\``);
  for (const h of status.heldBy) lines.push(`- held by \`${h.optimizer}\` (${h.className}, line ${String(h.at.line)})`);
  if (status.holds) lines.push(`- holds: ${status.holds.map((h) => `\`${h}\``).join(', ') || 'unknown'}`);
  if (status.movesOnZeroGrad !== undefined)
    lines.push(
      `- a zero gradient ${status.movesOnZeroGrad ? 'still moves' : 'does not move'} a parameter (zeroGrad({ setToNone: true }) makes step() skip it)`,
    );
  return lines.join('\n');
}
