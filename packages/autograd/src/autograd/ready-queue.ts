import type { Node } from './node.js';

/**
 * The backward pass's ready queue: a binary max-heap on `sequenceNr`, so the most recently
 * recorded ready node runs first (PyTorch's ReadyQueue order) in O(log n) per push/pop. Sorting a
 * ready array on every pop made wide graphs quadratic.
 */
export class ReadyQueue {
  private readonly heap: Node[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(node: Node): void {
    const h = this.heap;
    h.push(node);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].sequenceNr >= h[i].sequenceNr) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  /** Removes and returns the ready node with the highest sequence number. */
  pop(): Node | undefined {
    const h = this.heap;
    const top = h[0] as Node | undefined;
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let largest = i;
      if (l < h.length && h[l].sequenceNr > h[largest].sequenceNr) largest = l;
      if (r < h.length && h[r].sequenceNr > h[largest].sequenceNr) largest = r;
      if (largest === i) return top;
      [h[largest], h[i]] = [h[i], h[largest]];
      i = largest;
    }
  }
}
