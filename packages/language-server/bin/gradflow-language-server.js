#!/usr/bin/env node
// The command npm links at install time. It exists before the build (npm links bins before `dist/`
// is built in a fresh clone), and loads the compiled server from `dist/`.
import('../dist/bin.js').catch((error) => {
  const missing = error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js');
  process.stderr.write(
    missing
      ? 'gradflow-language-server: dist/bin.js is missing; build the package first (npm run build).\n'
      : `gradflow-language-server: ${error && error.stack ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
