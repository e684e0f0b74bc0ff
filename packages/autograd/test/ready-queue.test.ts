import { describe, expect, it } from 'vitest';
import type { Node } from '../src/autograd/node.js';
import { ReadyQueue } from '../src/autograd/ready-queue.js';
import { tensor, type Tensor } from '../src/index.js';

describe('ReadyQueue', () => {
  it('pops nodes by descending sequence number, whatever the push order', () => {
    const q = new ReadyQueue();
    const order = [5, 1, 9, 3, 7, 2, 8, 0, 6, 4, 11, 10];
    const popped: number[] = [];
    // The queue reads only `sequenceNr`: stand-ins, not nodes of a real graph.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- see above
    const node = (sequenceNr: number): Node => ({ sequenceNr }) as Node;
    order.slice(0, 6).forEach((n) => {
      q.push(node(n));
    });
    popped.push(q.pop()?.sequenceNr ?? -1, q.pop()?.sequenceNr ?? -1);
    order.slice(6).forEach((n) => {
      q.push(node(n));
    });
    for (let n = q.pop(); n; n = q.pop()) popped.push(n.sequenceNr);
    expect(popped).toEqual([9, 7, 11, 10, 8, 6, 5, 4, 3, 2, 1, 0]);
    expect(q.size).toBe(0);
    expect(q.pop()).toBeUndefined();
  });
});

describe('wide graphs', () => {
  it('a balanced tree of 4096 products sums every path once', () => {
    const x = tensor([1], { dtype: 'float64', requiresGrad: true });
    let level: Tensor[] = Array.from({ length: 4096 }, (_, i) => x.mul(i % 7));
    while (level.length > 1) {
      const next: Tensor[] = [];
      for (let i = 0; i < level.length; i += 2) next.push(level[i].add(level[i + 1]));
      level = next;
    }
    level[0].sum().backward();
    let expected = 0;
    for (let i = 0; i < 4096; i++) expected += i % 7;
    expect(x.grad?.item()).toBe(expected);
  });
});
