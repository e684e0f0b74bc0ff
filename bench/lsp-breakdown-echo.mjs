// bench/lsp-breakdown.mjs's stand-in for a lint worker process: answers each message with its report.
process.on('message', (/** @type {{ id: number; report: unknown }} */ message) => {
  process.send?.({ id: message.id, kind: 'done', value: message.report });
});
