// Incremental ESTree conversion for the server's programs (program-provider.ts). Per edit,
// typescript-estree converts the whole TypeScript AST of the file into ESTree, and walks every node's
// children again for the token list and once more for the comments: on a 1,000-line file about 16 ms
// of conversion, 10 ms of tokens and 6 ms of comments (profiled; 1.2 s on a 1 MB file). Yet the language service re-parses an edited file
// incrementally: every top-level statement the edit did not touch is the very same `ts.Node` object
// in the new source file, its text unchanged, only moved. The ESTree of such a statement, its
// tokens and its entries in the parser's node maps are therefore those of the previous conversion,
// shifted by the edit: they are taken from there instead of being converted again (and so are the
// comments in its text: see `patchComments`).
//
// This reaches into typescript-estree's `Converter` (its `converter` and `registerTSNodeInNodeMap`
// methods and its node maps) and `convertTokens`: it is used only for typescript-estree 8,
// whose shape it checks when it loads, and only around the parses of the server's programs; every
// other parse in the process runs typescript-estree unchanged. A statement is reused only when it is
// a direct child of the source file now and was one when it was converted (so the converter sees
// the same parent), and never a string-literal expression statement (whose `directive` depends on
// the statements before it). test/incremental-estree.test.ts compares the result with a full
// conversion, node maps included, edit by edit.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type ts from 'typescript';

/** An ESTree node or token as typescript-estree makes them (only what is read or shifted here). */
interface EsNode {
  type: string;
  range: [number, number];
  loc: { start: Position; end: Position };
  [key: string]: unknown;
}
interface Position {
  line: number;
  column: number;
}

/** One converted top-level statement, at the positions it had when it was last placed. */
interface Converted {
  es: EsNode;
  /** The statement's `pos` (full start) and its line and character, when `es` was last placed. */
  pos: number;
  line: number;
  character: number;
  /** The statement's tokens, once the token list was made with it. */
  tokens: EsNode[] | undefined;
  /** The comments that start in the statement's full text (its leading trivia included), once the comment list was made with it. */
  comments: EsNode[] | undefined;
}

/**
 * A file's last conversion: its statements, and the parser's node maps, kept from one conversion to
 * the next. A reused statement's ESTree nodes and TS nodes keep their entries; the nodes of a
 * statement converted again get theirs; the entries of nodes no longer in either tree are never read
 * again (and, in weak maps, are collected).
 */
interface FileState {
  statements: Map<ts.Node, Converted>;
  esTreeNodeToTSNodeMap: WeakMap<EsNode, ts.Node>;
  tsNodeToESTreeNodeMap: WeakMap<ts.Node, EsNode>;
}

interface ConverterOptions {
  shouldPreserveNodeMaps?: boolean;
}
interface ConverterInstance {
  ast: ts.SourceFile;
  options: ConverterOptions;
  esTreeNodeToTSNodeMap: WeakMap<EsNode, ts.Node>;
  tsNodeToESTreeNodeMap: WeakMap<ts.Node, EsNode>;
}
type ConverterMethod = (this: ConverterInstance, node: ts.Node | undefined, parent?: ts.Node, allowPattern?: boolean) => EsNode | null;
type Register = (this: ConverterInstance, node: ts.Node, result: EsNode | null) => void;
interface ConverterPrototype {
  converter: ConverterMethod;
  registerTSNodeInNodeMap: Register;
}
interface NodeUtils {
  convertTokens: (ast: ts.SourceFile) => EsNode[];
  convertToken: (token: ts.Node, ast: ts.SourceFile) => EsNode;
  isComment: (node: ts.Node) => boolean;
  getLocFor: (range: [number, number], ast: ts.SourceFile) => EsNode['loc'];
}
interface ConvertComments {
  convertComments: (ast: ts.SourceFile) => EsNode[];
}
/** ts-api-utils, as typescript-estree's `convertComments` uses it. */
interface TsApiUtils {
  iterateComments: (node: ts.Node, sourceFile: ts.SourceFile) => Iterable<{ pos: number; end: number; kind: ts.SyntaxKind; value: string }>;
}

/** One file's conversion under way. */
interface Session {
  /** The source file being converted, once its conversion began. */
  ast: ts.SourceFile | undefined;
  file: FileState;
  next: Map<ts.Node, Converted>;
  /** TS nodes registered in the TS → ESTree map by this conversion (the first registration wins, as in a conversion from scratch). */
  registered: Set<ts.Node>;
}

/** How many top-level statements were converted and how many reused, over the process (for tests and benches). */
export interface IncrementalStats {
  converted: number;
  reused: number;
}

const installed = new Map<string, IncrementalEstree | undefined>();

export class IncrementalEstree {
  /** Per file, its last conversion. */
  private readonly files = new Map<string, FileState>();
  private session: Session | undefined;
  readonly stats: IncrementalStats = { converted: 0, reused: 0 };

  private constructor(
    private readonly tsModule: typeof ts,
    private readonly nodeUtils: NodeUtils,
  ) {}

  /**
   * The incremental conversion of the typescript-estree module that `parserPath` (typescript-eslint's
   * parser) loads, set up once per module; undefined when that module is not one this knows.
   */
  static forParser(parserPath: string): IncrementalEstree | undefined {
    let estreeDir: string;
    try {
      estreeDir = path.dirname(createRequire(parserPath).resolve('@typescript-eslint/typescript-estree/package.json'));
    } catch {
      return undefined;
    }
    if (!installed.has(estreeDir)) installed.set(estreeDir, IncrementalEstree.install(estreeDir));
    return installed.get(estreeDir);
  }

  private static install(estreeDir: string): IncrementalEstree | undefined {
    try {
      const require = createRequire(path.join(estreeDir, 'package.json'));
      const manifest = require('./package.json') as { version?: unknown };
      if (typeof manifest.version !== 'string' || !manifest.version.startsWith('8.')) return undefined;
      const convert = require('./dist/convert.js') as { Converter?: { prototype: Partial<ConverterPrototype> } };
      const nodeUtils = require('./dist/node-utils.js') as Partial<NodeUtils>;
      const comments = require('./dist/convert-comments.js') as Partial<ConvertComments>;
      const tsApiUtils = require('ts-api-utils') as Partial<TsApiUtils>;
      const tsModule = require('typescript') as typeof ts;
      const proto = convert.Converter?.prototype;
      if (
        proto === undefined ||
        typeof proto.converter !== 'function' ||
        typeof proto.registerTSNodeInNodeMap !== 'function' ||
        typeof nodeUtils.convertTokens !== 'function' ||
        typeof nodeUtils.convertToken !== 'function' ||
        typeof nodeUtils.isComment !== 'function' ||
        typeof nodeUtils.getLocFor !== 'function'
      )
        return undefined;
      const incremental = new IncrementalEstree(tsModule, nodeUtils as NodeUtils);
      incremental.patch(proto as ConverterPrototype, nodeUtils as NodeUtils);
      // Comments too, where typescript-estree makes them with ts-api-utils as this expects.
      if (typeof comments.convertComments === 'function' && typeof tsApiUtils.iterateComments === 'function') {
        incremental.patchComments(comments as ConvertComments, tsApiUtils as TsApiUtils);
      }
      return incremental;
    } catch {
      return undefined;
    }
  }

  /** Runs `parse` (a parse of `fileName` with a program of the server) with the statements of the file's last conversion at hand. */
  run<T>(fileName: string, parse: () => T): T {
    let file = this.files.get(fileName);
    if (file === undefined) {
      file = { statements: new Map(), esTreeNodeToTSNodeMap: new WeakMap(), tsNodeToESTreeNodeMap: new WeakMap() };
      this.files.set(fileName, file);
    }
    const session: Session = { ast: undefined, file, next: new Map(), registered: new Set() };
    this.session = session;
    let converted = false;
    try {
      const result = parse();
      converted = true;
      return result;
    } finally {
      this.session = undefined;
      if (converted) {
        // This conversion's statements replace the last ones.
        if (session.ast !== undefined) file.statements = session.next;
      } else if (session.ast !== undefined) {
        // A conversion that failed half-way (the parse itself failing, on a syntax error, happens
        // before any conversion and keeps the last one): start from scratch next time.
        this.files.delete(fileName);
      }
    }
  }

  forget(fileName: string): void {
    this.files.delete(fileName);
  }

  private patch(proto: ConverterPrototype, nodeUtils: NodeUtils): void {
    // The Converter's methods keep their own `this`; what they need of this object, bound here.
    const current = (): Session | undefined => this.session;
    const { stats } = this;
    const place = this.place.bind(this);
    const reusable = this.reusable.bind(this);
    const tokensOf = this.tokensOf.bind(this);
    const { converter, registerTSNodeInNodeMap } = proto;
    const SourceFile = this.tsModule.SyntaxKind.SourceFile;
    proto.converter = function (node, parent, allowPattern) {
      const session = current();
      if (session === undefined || node === undefined || this.options.shouldPreserveNodeMaps !== true) {
        return converter.call(this, node, parent, allowPattern);
      }
      if (node.kind === SourceFile) {
        // The conversion of the file begins (the one source file a parse converts), with the file's maps.
        if (session.ast === undefined) {
          session.ast = node as ts.SourceFile;
          this.esTreeNodeToTSNodeMap = session.file.esTreeNodeToTSNodeMap;
          this.tsNodeToESTreeNodeMap = session.file.tsNodeToESTreeNodeMap;
        }
        return converter.call(this, node, parent, allowPattern);
      }
      const ast = session.ast;
      if (
        ast === undefined ||
        this.ast !== ast ||
        node.parent !== ast ||
        (parent !== undefined && parent !== ast) ||
        allowPattern === true
      ) {
        return converter.call(this, node, parent, allowPattern);
      }
      const known = session.file.statements.get(node);
      if (known !== undefined) {
        // Its nodes' entries in the file's maps are still there.
        place(known, node, ast);
        session.next.set(node, known);
        stats.reused += 1;
        return known.es;
      }
      const at = ast.getLineAndCharacterOfPosition(node.pos);
      const result = converter.call(this, node, parent, allowPattern);
      stats.converted += 1;
      if (result !== null && reusable(node)) {
        session.next.set(node, {
          es: result,
          pos: node.pos,
          line: at.line,
          character: at.character,
          tokens: undefined,
          comments: undefined,
        });
      }
      return result;
    };
    proto.registerTSNodeInNodeMap = function (node, result) {
      const session = current();
      if (session?.ast === undefined || this.ast !== session.ast) {
        registerTSNodeInNodeMap.call(this, node, result);
        return;
      }
      // The map holds entries from earlier conversions (a TS node the incremental parse kept, inside
      // a statement converted again): the first registration in this conversion wins instead.
      if (result !== null && this.options.shouldPreserveNodeMaps === true && !session.registered.has(node)) {
        session.registered.add(node);
        this.tsNodeToESTreeNodeMap.set(node, result);
      }
    };
    const convertTokens = nodeUtils.convertTokens;
    nodeUtils.convertTokens = (ast) => {
      const session = current();
      if (session?.ast !== ast) return convertTokens(ast);
      return tokensOf(ast, session.next);
    };
  }

  /**
   * typescript-estree's `convertComments` gives every comment of the file once, in order: ts-api-utils
   * walks the tokens and takes, for each, the comments after it on its line (trailing) and those
   * after a line break before it (leading). So the comments that start in a top-level statement's
   * full text are the trailing ones of the token before it (which ends where the statement's full
   * text starts) and the statement's own ones short of its end — all read from that text alone, and
   * the same for a reused statement. JSX files, where some tokens take no trailing comments, keep
   * typescript-estree's own walk.
   */
  patchComments(module: ConvertComments, tsApiUtils: TsApiUtils): void {
    const current = (): Session | undefined => this.session;
    const { convertComments } = module;
    const tsModule = this.tsModule;
    const { getLocFor } = this.nodeUtils;
    const comment = (ast: ts.SourceFile, pos: number, end: number, kind: ts.SyntaxKind, value: string): EsNode => {
      const range: [number, number] = [pos, end];
      return { type: kind === tsModule.SyntaxKind.SingleLineCommentTrivia ? 'Line' : 'Block', loc: getLocFor(range, ast), range, value };
    };
    const trailingAt = (ast: ts.SourceFile, pos: number, out: EsNode[]): void => {
      tsModule.forEachTrailingCommentRange(ast.text, pos, (start, end, kind) => {
        out.push(
          comment(ast, start, end, kind, ast.text.slice(start + 2, kind === tsModule.SyntaxKind.SingleLineCommentTrivia ? end : end - 2)),
        );
      });
    };
    const own = (ast: ts.SourceFile, node: ts.Node, before: number, out: EsNode[]): void => {
      for (const c of tsApiUtils.iterateComments(node, ast)) if (c.pos < before) out.push(comment(ast, c.pos, c.end, c.kind, c.value));
    };
    module.convertComments = (ast) => {
      const session = current();
      if (session?.ast !== ast || ast.languageVariant === tsModule.LanguageVariant.JSX) return convertComments(ast);
      const result: EsNode[] = [];
      for (const statement of ast.statements) {
        const converted = session.next.get(statement);
        if (converted?.comments !== undefined) {
          for (const c of converted.comments) result.push(c);
          continue;
        }
        const first = result.length;
        if (statement.pos > 0) trailingAt(ast, statement.pos, result);
        own(ast, statement, statement.end, result);
        if (converted !== undefined) converted.comments = result.slice(first);
      }
      // After the last statement: its last token's trailing comments, then the end-of-file token's own.
      const end = ast.endOfFileToken.pos;
      if (end > 0 && ast.statements.length > 0) trailingAt(ast, end, result);
      own(ast, ast.endOfFileToken, Number.POSITIVE_INFINITY, result);
      return result;
    };
  }

  /** Whether a statement's conversion depends on nothing but its own text (and its parent, the source file). */
  private reusable(node: ts.Node): boolean {
    const tsModule = this.tsModule;
    // A string-literal statement is a directive or not by the statements before it.
    return !(tsModule.isExpressionStatement(node) && tsModule.isStringLiteral(node.expression));
  }

  /**
   * typescript-estree's `convertTokens`, with the tokens of reused statements taken from their last
   * conversion (and those of the other statements kept for the next one).
   */
  private tokensOf(ast: ts.SourceFile, statements: Map<ts.Node, Converted>): EsNode[] {
    const { convertToken, isComment } = this.nodeUtils;
    const SyntaxKind = this.tsModule.SyntaxKind;
    const result: EsNode[] = [];
    const walk = (node: ts.Node): void => {
      if (isComment(node) || node.kind === SyntaxKind.JSDoc) return;
      if (node.kind >= SyntaxKind.FirstToken && node.kind <= SyntaxKind.LastToken) {
        if (node.kind === SyntaxKind.EndOfFileToken) return;
        const token = convertToken(node, ast);
        if (node.kind === SyntaxKind.LessThanToken) addMissingLessThanToken(result, token, ast);
        result.push(token);
        return;
      }
      const converted = node.parent === ast ? statements.get(node) : undefined;
      if (converted?.tokens !== undefined) {
        for (const token of converted.tokens) result.push(token);
        return;
      }
      const first = result.length;
      for (const child of node.getChildren(ast)) walk(child);
      if (converted !== undefined) converted.tokens = result.slice(first);
    };
    walk(ast);
    return result;
  }

  /** Moves a reused statement's ESTree and tokens to where its TS node is now. */
  private place(converted: Converted, node: ts.Node, ast: ts.SourceFile): void {
    const at = ast.getLineAndCharacterOfPosition(node.pos);
    const delta = node.pos - converted.pos;
    const lineDelta = at.line - converted.line;
    const characterDelta = at.character - converted.character;
    if (delta === 0 && lineDelta === 0 && characterDelta === 0) return;
    // Within the statement the text is unchanged: a position on its first line moves by the
    // statement's own change of column; one on a later line keeps its column.
    const firstLine = converted.line + 1;
    // (In typescript-estree's key order, so that a moved node serializes as a converted one.)
    const move = (position: Position): Position => ({
      column: position.line === firstLine ? position.column + characterDelta : position.column,
      line: position.line + lineDelta,
    });
    const shift = (es: EsNode): void => {
      es.range = [es.range[0] + delta, es.range[1] + delta];
      es.loc = { end: move(es.loc.end), start: move(es.loc.start) };
    };
    const seen = new Set<object>();
    const visit = (es: EsNode): void => {
      if (seen.has(es)) return;
      seen.add(es);
      shift(es);
      for (const key of Object.keys(es)) {
        if (key === 'parent' || key === 'range' || key === 'loc') continue;
        const value = es[key];
        if (Array.isArray(value)) {
          for (const item of value) if (isEsNode(item)) visit(item);
        } else if (isEsNode(value)) visit(value);
      }
    };
    visit(converted.es);
    if (converted.tokens !== undefined) for (const token of converted.tokens) shift(token);
    if (converted.comments !== undefined) for (const comment of converted.comments) shift(comment);
    converted.pos = node.pos;
    converted.line = at.line;
    converted.character = at.character;
  }
}

function isEsNode(value: unknown): value is EsNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    Array.isArray((value as { range?: unknown }).range)
  );
}

/** typescript-estree's own (node-utils.ts, not exported): TypeScript drops the first half of a `<<` in some type argument lists. */
function addMissingLessThanToken(result: EsNode[], token: EsNode, ast: ts.SourceFile): void {
  const previous = result.at(-1);
  if (previous === undefined) return;
  const start = token.range[0];
  if (start > previous.range[1] && ast.text[start - 1] === '<') {
    const range: [number, number] = [start - 1, start];
    const from = ast.getLineAndCharacterOfPosition(range[0]);
    const to = ast.getLineAndCharacterOfPosition(range[1]);
    result.push({
      type: 'Punctuator',
      loc: { end: { column: to.character, line: to.line + 1 }, start: { column: from.character, line: from.line + 1 } },
      range,
      value: '<',
    });
  }
}
