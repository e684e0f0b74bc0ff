// The open documents, as the editor's notifications describe them. Unlike vscode-languageserver's
// `TextDocuments`, a change whose version is not newer than the document's is dropped (an editor or
// a proxy that reorders messages must not make an older text current), and a document can be opened
// before `initialize` (the server lints it once initialized).
import {
  type Connection,
  type DidChangeTextDocumentParams,
  type DidCloseTextDocumentParams,
  type DidOpenTextDocumentParams,
  type DidSaveTextDocumentParams,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

type Listener = (document: TextDocument) => void;

export class DocumentStore {
  private readonly documents = new Map<string, TextDocument>();
  private readonly listeners = { open: [] as Listener[], change: [] as Listener[], close: [] as Listener[], save: [] as Listener[] };

  constructor(private readonly log: (message: string) => void = () => undefined) {}

  get(uri: string): TextDocument | undefined {
    return this.documents.get(uri);
  }

  all(): TextDocument[] {
    return [...this.documents.values()];
  }

  onDidOpen(listener: Listener): void {
    this.listeners.open.push(listener);
  }

  /** On open (after `onDidOpen`) and on every change that is applied. */
  onDidChangeContent(listener: Listener): void {
    this.listeners.change.push(listener);
  }

  onDidClose(listener: Listener): void {
    this.listeners.close.push(listener);
  }

  onDidSave(listener: Listener): void {
    this.listeners.save.push(listener);
  }

  listen(connection: Connection): void {
    connection.onDidOpenTextDocument((params) => {
      this.open(params);
    });
    connection.onDidChangeTextDocument((params) => {
      this.change(params);
    });
    connection.onDidCloseTextDocument((params) => {
      this.close(params);
    });
    connection.onDidSaveTextDocument((params) => {
      this.save(params);
    });
  }

  open({ textDocument }: DidOpenTextDocumentParams): void {
    const document = TextDocument.create(textDocument.uri, textDocument.languageId, textDocument.version, textDocument.text);
    this.documents.set(document.uri, document);
    this.emit('open', document);
    this.emit('change', document);
  }

  change({ textDocument, contentChanges }: DidChangeTextDocumentParams): void {
    const document = this.documents.get(textDocument.uri);
    if (document === undefined) return; // never opened: a client bug, nothing to apply the change to
    const version = textDocument.version as number | null;
    if (version === null || version <= document.version) {
      this.log(
        `dropped a change to ${textDocument.uri} at version ${String(version)}: the document is at version ${String(document.version)}`,
      );
      return;
    }
    TextDocument.update(document, contentChanges, version);
    this.emit('change', document);
  }

  close({ textDocument }: DidCloseTextDocumentParams): void {
    const document = this.documents.get(textDocument.uri);
    if (document === undefined) return;
    this.documents.delete(textDocument.uri);
    this.emit('close', document);
  }

  save({ textDocument }: DidSaveTextDocumentParams): void {
    const document = this.documents.get(textDocument.uri);
    if (document !== undefined) this.emit('save', document);
  }

  private emit(event: 'open' | 'change' | 'close' | 'save', document: TextDocument): void {
    for (const listener of this.listeners[event]) {
      try {
        listener(document);
      } catch (error) {
        this.log(`${event} of ${document.uri}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }
  }
}
