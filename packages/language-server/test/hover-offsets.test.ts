// Which hovers the hover worker may answer from the analysis of the text before an edit.
import { describe, expect, it } from 'vitest';
import { unchangedOffset } from '../src/hover-service.js';

const before = 'const a = 1;\nconst lr = 0.01;\nconst b = a;\n';

describe('unchangedOffset', () => {
  it('keeps an offset before the edited line, and shifts one after it by the edit', () => {
    const after = before.replace('0.01', '0.001');
    expect(unchangedOffset(before, after, after.indexOf('a = 1'))).toBe(before.indexOf('a = 1'));
    expect(unchangedOffset(before, after, after.indexOf('b = a'))).toBe(before.indexOf('b = a'));
  });

  it('gives up on the edited line itself', () => {
    const after = before.replace('0.01', '0.001');
    expect(unchangedOffset(before, after, after.indexOf('lr'))).toBeUndefined();
  });

  it('gives up after an edit that adds or removes a line (a hover names lines)', () => {
    const after = before.replace('const lr = 0.01;\n', '');
    expect(unchangedOffset(before, after, after.indexOf('b = a'))).toBeUndefined();
    expect(unchangedOffset(before, `${before}\n`, 0)).toBeUndefined();
  });
});
