import ts from 'typescript';

/**
 * Narrowing needs the reference itself somewhere a condition, a type guard or an assertion can see
 * it: an `if`/`while` test, `instanceof`, `typeof`, `===`, `!`, `&&`, an argument of a function
 * that may be a type predicate or an assertion. A name is "never narrowed" when every occurrence
 * of it in the file (any variable of that name, to stay on the safe side) is in one of the
 * positions below, none of which narrows. One walk over the file answers for every name.
 */
interface NameUses {
  /**
   * Variable names → whether every occurrence is in a position that cannot narrow it; or the calls
   * that could narrow it through an argument, which cannot when none of them is a type predicate
   * or an assertion (settled with the checker, only when the name's type is asked for).
   */
  readonly variables: ReadonlyMap<string, boolean | readonly ts.CallExpression[]>;
  /** The same for property names (`x.name`, `this.name`). */
  readonly properties: ReadonlyMap<string, boolean | readonly ts.CallExpression[]>;
  /**
   * The file declares a `this is T` or `asserts this is T` method: a call of it narrows its
   * receiver, so no receiver position is safe there (rare enough to give the file to the checker).
   */
  readonly thisPredicate: boolean;
}

const nameUses = new WeakMap<ts.SourceFile, NameUses>();

/**
 * Whether no occurrence of `name` (a variable's, or a property's) in the file can narrow it.
 * `callCannotNarrow` settles the calls that receive it as an argument (the checker knows whether
 * a callee is a type predicate or an assertion; this module reads only syntax).
 */
export function neverNarrowed(
  sourceFile: ts.SourceFile,
  name: string,
  kind: 'variables' | 'properties',
  callCannotNarrow: (call: ts.CallExpression) => boolean,
): boolean {
  let uses = nameUses.get(sourceFile);
  if (!uses) {
    uses = scanNameUses(sourceFile);
    nameUses.set(sourceFile, uses);
  }
  if (uses.thisPredicate) return false;
  const safety = uses[kind].get(name);
  if (typeof safety === 'boolean' || safety === undefined) return safety === true;
  return safety.every(callCannotNarrow);
}

/**
 * Whether a position cannot narrow: true, false, the name of a constant that must never be tested
 * (an aliased condition), or a call that must be neither a type predicate nor an assertion.
 */
type Safety = boolean | string | ts.CallExpression;

function scanNameUses(sourceFile: ts.SourceFile): NameUses {
  const scanner = new NameUseScanner();
  const visit = (node: ts.Node): void => {
    scanner.visit(node);
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return scanner.finish();
}

/**
 * Builds a file's NameUses one node at a time, so that a walk over the file made for another
 * purpose (the file index) can feed it; `primeNameUses` then hands the result over.
 */
export class NameUseScanner {
  private readonly variables = new Map<string, boolean | ts.CallExpression[]>();
  private readonly properties = new Map<string, boolean | ts.CallExpression[]>();
  /** Names used only as receivers, declared names, arguments or elements: never tested. */
  private readonly untested = new Map<string, boolean>();
  private readonly aliased: [Map<string, boolean | ts.CallExpression[]>, string, string][] = [];
  private thisPredicate = false;

  visit(node: ts.Node): void {
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      // A property name is not a reference to a variable of that name.
      if (!(ts.isPropertyAccessExpression(parent) && parent.name === node)) {
        this.untested.set(node.text, (this.untested.get(node.text) ?? true) && neverTested(node));
        const declared =
          (ts.isVariableDeclaration(parent) ||
            ts.isParameter(parent) ||
            ts.isBindingElement(parent) ||
            ts.isShorthandPropertyAssignment(parent)) &&
          parent.name === node;
        this.record(this.variables, node.text, declared || receiverSafety(node) || nonNarrowingPosition(node));
      }
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.name)) {
      const parent = node.parent;
      const callee = (ts.isCallExpression(parent) || ts.isNewExpression(parent)) && parent.expression === node;
      this.record(this.properties, node.name.text, callee || receiverSafety(node) || nonNarrowingPosition(node));
    } else if (ts.isTypePredicateNode(node) && node.parameterName.kind === ts.SyntaxKind.ThisType) {
      this.thisPredicate = true;
    }
  }

  finish(): NameUses {
    // An aliased condition: `const ok = isParam(x); if (ok) …` narrows `x`.
    for (const [map, name, constant] of this.aliased) {
      if (this.untested.get(constant) !== true) map.set(name, false);
    }
    return { variables: this.variables, properties: this.properties, thisPredicate: this.thisPredicate };
  }

  private record(map: Map<string, boolean | ts.CallExpression[]>, name: string, safety: Safety): void {
    const known = map.get(name) ?? true;
    if (known === false || safety === true) {
      if (!map.has(name)) map.set(name, true);
    } else if (safety === false) {
      map.set(name, false);
    } else if (typeof safety === 'string') {
      this.aliased.push([map, name, safety]);
      if (!map.has(name)) map.set(name, true);
    } else {
      map.set(name, known === true ? [safety] : [...known, safety]);
    }
  }
}

/** Hands over the NameUses of a file that a walk made elsewhere has already collected. */
export function primeNameUses(sourceFile: ts.SourceFile, scanner: NameUseScanner): void {
  nameUses.set(sourceFile, scanner.finish());
}

/** The receiver of a property access, unless it is a method call in a condition (a `this` predicate would narrow it). */
function receiverSafety(node: ts.Expression): boolean {
  const access = node.parent;
  if (!ts.isPropertyAccessExpression(access) || access.expression !== node) return false;
  const call = access.parent;
  return !(ts.isCallExpression(call) && call.expression === access && inCondition(call));
}

function inCondition(node: ts.Expression): boolean {
  let cur: ts.Node = node;
  while (ts.isParenthesizedExpression(cur.parent)) cur = cur.parent;
  const parent = cur.parent;
  if (ts.isIfStatement(parent) || ts.isWhileStatement(parent) || ts.isDoStatement(parent)) return parent.expression === cur;
  if (ts.isForStatement(parent)) return parent.condition === cur;
  if (ts.isConditionalExpression(parent)) return parent.condition === cur;
  if (ts.isPrefixUnaryExpression(parent)) return parent.operator === ts.SyntaxKind.ExclamationToken;
  if (ts.isBinaryExpression(parent)) {
    const op = parent.operatorToken.kind;
    return op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken;
  }
  return false;
}

/** A use that cannot be a test of the name's value (so a constant used only like this is no aliased condition). */
function neverTested(id: ts.Identifier): boolean {
  const parent = id.parent;
  return (
    (ts.isPropertyAccessExpression(parent) && parent.expression === id) ||
    ((ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isBindingElement(parent)) && parent.name === id) ||
    (ts.isCallExpression(parent) && parent.expression !== id) ||
    ts.isArrayLiteralExpression(parent) ||
    ts.isSpreadElement(parent)
  );
}

/**
 * Value positions that pass a reference on without testing it: an element of an array, a property
 * value, an initializer, the right side or the target of `=`, a returned value, an argument of
 * `new` or of a call that can be neither a type predicate nor an assertion (a call used as a value
 * in one of these same positions, or a method call whose result is chained on).
 */
function nonNarrowingPosition(node: ts.Node): Safety {
  const parent = node.parent;
  if (ts.isArrayLiteralExpression(parent) || ts.isSpreadElement(parent) || ts.isTemplateSpan(parent)) return true;
  if (ts.isPropertyAssignment(parent)) return parent.initializer === node;
  if (ts.isVariableDeclaration(parent)) return parent.initializer === node;
  if (ts.isReturnStatement(parent) || (ts.isArrowFunction(parent) && parent.body === node)) return true;
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
    return parent.right === node ? true : ts.isExpressionStatement(parent.parent);
  }
  if (ts.isNewExpression(parent)) return parent.expression !== node;
  if (ts.isCallExpression(parent) && parent.expression !== node) {
    // Unless its result only flows on as a value, the call must be no predicate and no assertion.
    const flowsOn = callResultNotTested(parent);
    return flowsOn === false ? parent : flowsOn;
  }
  return false;
}

/**
 * A call whose result flows on as a value (`a.forward(x).relu()`, `const y = m.forward(x)`), never
 * into a condition: a type predicate narrows only in a condition, an assertion only as a statement.
 * A `const` initializer is a value too, unless the constant is later tested (an aliased condition):
 * that is settled once the whole file has been seen, so the constant's name is returned.
 */
function callResultNotTested(call: ts.CallExpression): boolean | string {
  const parent = call.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.expression === call) return true;
  if (ts.isArrayLiteralExpression(parent) || ts.isSpreadElement(parent) || ts.isReturnStatement(parent) || ts.isPropertyAssignment(parent))
    return true;
  if (ts.isNewExpression(parent) && parent.expression !== call) return true;
  if (ts.isCallExpression(parent) && parent.expression !== call) return callResultNotTested(parent);
  if (ts.isVariableDeclaration(parent) && parent.initializer === call) return ts.isIdentifier(parent.name) ? parent.name.text : true;
  return false;
}
