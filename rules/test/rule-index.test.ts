// The rule index (src/index.ts) is the one list of rules; everything written per rule elsewhere must
// agree with it, as typescript-eslint's docs.test.ts checks its docs against its rule index.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rules } from '../src/index.js';

const ids = Object.keys(rules).sort();
const rulesDir = new URL('../', import.meta.url);
const filesIn = (folder: string, ending: string): string[] =>
  readdirSync(new URL(folder, rulesDir))
    .filter((f) => f.endsWith(ending))
    .map((f) => f.slice(0, -ending.length))
    .sort();

describe('rule index', () => {
  it('lists every rule module in src/ by its own name', () => {
    const modules = filesIn('src/', '.ts').filter((f) => f !== 'index');
    expect(modules).toEqual(ids);
    for (const [id, rule] of Object.entries(rules)) expect(rule.name).toBe(id);
  });

  it('has one doc per rule, titled by its id, saying what happens at run time', () => {
    expect(filesIn('docs/', '.md')).toEqual(ids);
    for (const id of ids) {
      const doc = readFileSync(new URL(`docs/${id}.md`, rulesDir), 'utf8');
      expect(doc.split('\n')[0]).toBe(`# \`@gradflow/${id}\``);
      expect(doc).toContain('\n## What happens at run time\n');
    }
  });

  it('has one RuleTester suite per rule', () => {
    const suites = filesIn('test/', '.test.ts');
    for (const id of ids) expect(suites, id).toContain(id);
  });

  it("is listed in the repository README's rule table, linking its doc", () => {
    const readme = readFileSync(new URL('../README.md', rulesDir), 'utf8');
    const listed = [...readme.matchAll(/^\| \[`([a-z-]+)`\]\(rules\/docs\/([a-z-]+)\.md\) \|/gm)];
    expect(listed.map(([, id, doc]) => `${id} → ${doc}`).sort()).toEqual(ids.map((id) => `${id} → ${id}`));
  });

  it("is listed in the plugin package's README (what npm shows)", () => {
    const readme = readFileSync(new URL('../packages/eslint-plugin/README.md', rulesDir), 'utf8');
    const listed = [...readme.matchAll(/^\| `@gradflow\/([a-z-]+)` \|/gm)].map(([, id]) => id);
    expect(listed.sort()).toEqual(ids);
  });
});
