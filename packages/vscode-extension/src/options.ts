// The server's `initializationOptions` from the extension's settings (`gradflow.*`), apart from
// `vscode` so that it can be tested without an editor.

/** What the server accepts (its README, "initializationOptions"); a setting left unset is left out, and the server's default applies. */
export interface InitializationOptions {
  debounceMs?: number;
  idleTimeoutMs?: number;
}

/** `get` reads one `gradflow.*` setting (VS Code's `WorkspaceConfiguration.get`). */
export function initializationOptions(get: (section: string) => unknown): InitializationOptions {
  const options: InitializationOptions = {};
  const debounceMs = get('debounceMs');
  if (typeof debounceMs === 'number') options.debounceMs = debounceMs;
  const idleTimeoutMs = get('idleTimeoutMs');
  if (typeof idleTimeoutMs === 'number') options.idleTimeoutMs = idleTimeoutMs;
  return options;
}
