/**
 * Prepare the Shakespeare dataset for character-level language modeling: a port of nanoGPT's
 * `data/shakespeare_char/prepare.py` (karpathy/nanoGPT@3adf61e154c3fe3fca428ad6bc3818b27a3b8291).
 * So instead of encoding with GPT-2 BPE tokens, we just map characters to ints. nanoGPT writes
 * train.bin/val.bin (uint16) and meta.pkl; here the ids stay in memory as Int32Arrays (the engine's
 * index dtype) and the text is small enough to prepare at every start.
 */
export interface CharDataset {
  vocabSize: number;
  /** all the unique characters, sorted (Python's sorted(set(data)); the same order for BMP text) */
  chars: string[];
  stoi: Map<string, number>;
  itos: Map<number, string>;
  encode: (s: string) => number[];
  decode: (l: Iterable<number>) => string;
  trainIds: Int32Array;
  valIds: Int32Array;
}

export function prepare(data: string): CharDataset {
  // get all the unique characters that occur in this text
  const chars = [...new Set(data)].sort();
  const vocabSize = chars.length;
  // create a mapping from characters to integers
  const stoi = new Map(chars.map((ch, i) => [ch, i]));
  const itos = new Map(chars.map((ch, i) => [i, ch]));
  const encode = (s: string): number[] =>
    [...s].map((c) => {
      const i = stoi.get(c);
      if (i === undefined) throw new Error(`encode: character ${JSON.stringify(c)} is not in the vocabulary`);
      return i;
    }); // encoder: take a string, output a list of integers
  const decode = (l: Iterable<number>): string => [...l].map((i) => itos.get(i) ?? '').join(''); // decoder: take a list of integers, output a string

  // create the train and test splits
  const n = data.length;
  const trainData = data.slice(0, Math.floor(n * 0.9));
  const valData = data.slice(Math.floor(n * 0.9));

  // encode both to integers
  return {
    vocabSize,
    chars,
    stoi,
    itos,
    encode,
    decode,
    trainIds: Int32Array.from(encode(trainData)),
    valIds: Int32Array.from(encode(valData)),
  };
}
