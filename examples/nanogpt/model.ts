/**
 * Full definition of a GPT Language Model, all of it in this single file: a port of karpathy/nanoGPT's
 * `model.py` (https://github.com/karpathy/nanoGPT/blob/f08abb45bd2285627d17da16daea14dda7e7253e/model.py,
 * the last commit that changed model.py; MIT licence, © Andrej Karpathy) to @gradflow/autograd.
 *
 * Same classes, same order, same submodule names (so `stateDict()` keys read exactly as PyTorch's:
 * `transformer.h.0.attn.c_attn.weight`), same initialisation. What differs, and why:
 * - config fields and methods are camelCased (`nEmbd`, `configureOptimizers`), as the engine's API is;
 * - `nn.ModuleDict(dict(wte=…))` is a small typed module, `Transformer`, with the same child names;
 * - `from_pretrained`, `crop_block_size` and `estimate_mfu` are left out (no GPT-2 checkpoints here);
 * - the engine's `scaledDotProductAttention` has no `dropout_p`: with attention dropout in training
 *   the manual path runs (the same computation nanoGPT's non-flash branch does);
 * - `generate`'s `topk` is done with repeated `max` (the engine has no `topk`).
 */
import { arange, cat, multinomial, nn, noGrad, ones, optim, zeros, type Tensor } from '@gradflow/autograd';

const F = nn.functional;

export interface GPTConfig {
  blockSize: number;
  /** GPT-2 vocab_size of 50257, padded up to nearest multiple of 64 for efficiency */
  vocabSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  dropout: number;
  /** True: bias in Linears and LayerNorms, like GPT-2. False: a bit better and faster */
  bias: boolean;
}

/** nanoGPT's defaults (GPT-2 124M). */
export function gptConfig(overrides: Partial<GPTConfig> = {}): GPTConfig {
  return { blockSize: 1024, vocabSize: 50304, nLayer: 12, nHead: 12, nEmbd: 768, dropout: 0.0, bias: true, ...overrides };
}

/** LayerNorm but with an optional bias. (PyTorch's nn.LayerNorm gained `bias=False` later; the engine's has it too.) */
export class LayerNorm extends nn.Module {
  weight: nn.Parameter;
  bias: nn.Parameter | null;

  constructor(ndim: number, bias: boolean) {
    super();
    this.weight = new nn.Parameter(ones([ndim]));
    this.bias = bias ? new nn.Parameter(zeros([ndim])) : null;
  }

  forward(input: Tensor): Tensor {
    return F.layerNorm(input, this.weight.shape, this.weight, this.bias, { eps: 1e-5 });
  }
}

export class CausalSelfAttention extends nn.Module {
  c_attn: nn.Linear;
  c_proj: nn.Linear;
  attn_dropout: nn.Dropout;
  resid_dropout: nn.Dropout;
  readonly n_head: number;
  readonly n_embd: number;
  readonly dropout: number;
  /** "flash attention make GPU go brrrrr": the engine's fused-in-name-only scaledDotProductAttention. */
  readonly flash: boolean;
  /** The causal mask buffer [1, 1, blockSize, blockSize], registered only where the manual path can run. */
  declare bias?: Tensor;

  constructor(config: GPTConfig) {
    super();
    if (config.nEmbd % config.nHead !== 0) throw new Error(`nEmbd (${config.nEmbd}) must be divisible by nHead (${config.nHead})`);
    // key, query, value projections for all heads, but in a batch
    this.c_attn = new nn.Linear(config.nEmbd, 3 * config.nEmbd, { bias: config.bias });
    // output projection
    this.c_proj = new nn.Linear(config.nEmbd, config.nEmbd, { bias: config.bias });
    // regularization
    this.attn_dropout = new nn.Dropout(config.dropout);
    this.resid_dropout = new nn.Dropout(config.dropout);
    this.n_head = config.nHead;
    this.n_embd = config.nEmbd;
    this.dropout = config.dropout;
    this.flash = typeof F.scaledDotProductAttention === 'function';
    if (!this.flash || this.dropout > 0) {
      // causal mask to ensure that attention is only applied to the left in the input sequence
      // (not persistent, unlike nanoGPT's: stateDict() keys stay those of PyTorch's flash-path model)
      this.registerBuffer('bias', ones([config.blockSize, config.blockSize]).tril(0).view(1, 1, config.blockSize, config.blockSize), {
        persistent: false,
      });
    }
  }

  forward(x: Tensor): Tensor {
    const [B, T, C] = x.shape; // batch size, sequence length, embedding dimensionality (n_embd)

    // calculate query, key, values for all heads in batch and move head forward to be the batch dim
    let [q, k, v] = this.c_attn.forward(x).split(this.n_embd, 2);
    k = k.view(B, T, this.n_head, C / this.n_head).transpose(1, 2); // (B, nh, T, hs)
    q = q.view(B, T, this.n_head, C / this.n_head).transpose(1, 2); // (B, nh, T, hs)
    v = v.view(B, T, this.n_head, C / this.n_head).transpose(1, 2); // (B, nh, T, hs)

    // causal self-attention; Self-attend: (B, nh, T, hs) x (B, nh, hs, T) -> (B, nh, T, T)
    let y: Tensor;
    if (this.flash && !(this.training && this.dropout > 0)) {
      y = F.scaledDotProductAttention(q, k, v, { attnMask: null, isCausal: true });
    } else {
      // manual implementation of attention
      const mask = this.bias;
      if (!mask) throw new Error('CausalSelfAttention: the causal mask buffer is missing');
      let att = q.matmul(k.transpose(-2, -1)).mul(1.0 / Math.sqrt(k.shape[k.ndim - 1]));
      // bias[:, :, :T, :T] == 0 (the mask holds only 0 and 1)
      att = att.maskedFill(
        noGrad(() => mask.slice(2, 0, T).slice(3, 0, T).le(0)),
        -Infinity,
      );
      att = F.softmax(att, -1);
      att = this.attn_dropout.forward(att);
      y = att.matmul(v); // (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
    }
    // re-assemble all head outputs side by side (PyTorch's .contiguous().view(): reshape copies when needed)
    y = y.transpose(1, 2).reshape([B, T, C]);

    // output projection
    return this.resid_dropout.forward(this.c_proj.forward(y));
  }
}

export class MLP extends nn.Module {
  c_fc: nn.Linear;
  gelu: nn.GELU;
  c_proj: nn.Linear;
  dropout: nn.Dropout;

  constructor(config: GPTConfig) {
    super();
    this.c_fc = new nn.Linear(config.nEmbd, 4 * config.nEmbd, { bias: config.bias });
    this.gelu = new nn.GELU();
    this.c_proj = new nn.Linear(4 * config.nEmbd, config.nEmbd, { bias: config.bias });
    this.dropout = new nn.Dropout(config.dropout);
  }

  forward(input: Tensor): Tensor {
    let x = this.c_fc.forward(input);
    x = this.gelu.forward(x);
    x = this.c_proj.forward(x);
    x = this.dropout.forward(x);
    return x;
  }
}

export class Block extends nn.Module {
  ln_1: LayerNorm;
  attn: CausalSelfAttention;
  ln_2: LayerNorm;
  mlp: MLP;

  constructor(config: GPTConfig) {
    super();
    this.ln_1 = new LayerNorm(config.nEmbd, config.bias);
    this.attn = new CausalSelfAttention(config);
    this.ln_2 = new LayerNorm(config.nEmbd, config.bias);
    this.mlp = new MLP(config);
  }

  forward(input: Tensor): Tensor {
    let x = input.add(this.attn.forward(this.ln_1.forward(input)));
    x = x.add(this.mlp.forward(this.ln_2.forward(x)));
    return x;
  }
}

/** nanoGPT's `nn.ModuleDict(dict(wte=…, wpe=…, drop=…, h=…, ln_f=…))`, typed: the same child names. */
export class Transformer extends nn.Module<never> {
  wte: nn.Embedding;
  wpe: nn.Embedding;
  drop: nn.Dropout;
  h: nn.ModuleList<Block>;
  ln_f: LayerNorm;

  constructor(config: GPTConfig) {
    super();
    this.wte = new nn.Embedding(config.vocabSize, config.nEmbd);
    this.wpe = new nn.Embedding(config.blockSize, config.nEmbd);
    this.drop = new nn.Dropout(config.dropout);
    this.h = new nn.ModuleList(Array.from({ length: config.nLayer }, () => new Block(config)));
    this.ln_f = new LayerNorm(config.nEmbd, config.bias);
  }

  forward(): never {
    throw new Error('transformer is a container (nanoGPT: nn.ModuleDict): GPT.forward calls its modules');
  }
}

export class GPT extends nn.Module<[Tensor, Tensor | null]> {
  readonly config: GPTConfig;
  transformer: Transformer;
  lm_head: nn.Linear;

  constructor(config: GPTConfig, options: { quiet?: boolean } = {}) {
    super();
    this.config = config;
    this.transformer = new Transformer(config);
    this.lm_head = new nn.Linear(config.nEmbd, config.vocabSize, { bias: false });
    // https://paperswithcode.com/method/weight-tying: one Parameter, listed once (as transformer.wte.weight)
    this.transformer.wte.weight = this.lm_head.weight;

    // init all weights
    this.apply((m) => {
      this._init_weights(m);
    });
    // apply special scaled init to the residual projections, per GPT-2 paper
    for (const [pn, p] of this.namedParameters()) {
      if (pn.endsWith('c_proj.weight')) nn.init.normal_(p, 0.0, 0.02 / Math.sqrt(2 * config.nLayer));
    }

    // report number of parameters
    if (options.quiet !== true) console.log(`number of parameters: ${(this.getNumParams() / 1e6).toFixed(2)}M`);
  }

  /**
   * Return the number of parameters in the model. For non-embedding count (default), the position
   * embeddings get subtracted. The token embeddings would too, except due to the parameter sharing
   * these params are actually used as weights in the final layer, so we include them.
   */
  getNumParams(nonEmbedding = true): number {
    let nParams = this.parameters().reduce((n, p) => n + p.numel(), 0);
    if (nonEmbedding) nParams -= this.transformer.wpe.weight.numel();
    return nParams;
  }

  _init_weights(module: nn.AnyModule): void {
    if (module instanceof nn.Linear) {
      nn.init.normal_(module.weight, 0.0, 0.02);
      if (module.bias !== null) nn.init.zeros_(module.bias);
    } else if (module instanceof nn.Embedding) {
      nn.init.normal_(module.weight, 0.0, 0.02);
    }
  }

  /** idx: int32 [b, t]; targets: int32 [b, t] (-1 is ignored). Returns [logits, loss]. */
  forward(idx: Tensor, targets?: Tensor): [Tensor, Tensor | null] {
    const t = idx.shape[1];
    if (t > this.config.blockSize) throw new Error(`Cannot forward sequence of length ${t}, block size is only ${this.config.blockSize}`);
    const pos = arange(0, t, { dtype: 'int32', device: idx.device }); // shape (t)

    // forward the GPT model itself
    const tokEmb = this.transformer.wte.forward(idx); // token embeddings of shape (b, t, n_embd)
    const posEmb = this.transformer.wpe.forward(pos); // position embeddings of shape (t, n_embd)
    let x = this.transformer.drop.forward(tokEmb.add(posEmb));
    for (const block of this.transformer.h) x = block.forward(x);
    x = this.transformer.ln_f.forward(x);

    if (targets !== undefined) {
      // if we are given some desired targets also calculate the loss
      const logits = this.lm_head.forward(x);
      const loss = F.crossEntropy(logits.view(-1, logits.shape[logits.ndim - 1]), targets.view(-1), { ignoreIndex: -1 });
      return [logits, loss];
    }
    // inference-time mini-optimization: only forward the lm_head on the very last position
    const logits = this.lm_head.forward(x.slice(1, -1)); // note: slice(1, -1) is x[:, [-1], :], keeping the time dim
    return [logits, null];
  }

  /** AdamW with two param groups: every parameter of 2+ dims decays, biases and LayerNorm gains do not. */
  configureOptimizers(weightDecay: number, learningRate: number, betas: [number, number], options: { quiet?: boolean } = {}): optim.AdamW {
    // start with all of the candidate parameters, filter out those that do not require grad
    const paramDict = this.namedParameters().filter(([, p]) => p.requiresGrad);
    // create optim groups. Any parameters that is 2D will be weight decayed, otherwise no.
    // i.e. all weight tensors in matmuls + embeddings decay, all biases and layernorms don't.
    const decayParams = paramDict.filter(([, p]) => p.ndim >= 2).map(([, p]) => p);
    const nodecayParams = paramDict.filter(([, p]) => p.ndim < 2).map(([, p]) => p);
    const optimGroups = [
      { params: decayParams, weightDecay },
      { params: nodecayParams, weightDecay: 0.0 },
    ];
    if (options.quiet !== true) {
      const count = (ps: Tensor[]): string => ps.reduce((n, p) => n + p.numel(), 0).toLocaleString('en-US');
      console.log(`num decayed parameter tensors: ${decayParams.length}, with ${count(decayParams)} parameters`);
      console.log(`num non-decayed parameter tensors: ${nodecayParams.length}, with ${count(nodecayParams)} parameters`);
    }
    return new optim.AdamW(optimGroups, { lr: learningRate, betas });
  }

  /**
   * Take a conditioning sequence of indices idx (int32 [b, t]) and complete the sequence
   * maxNewTokens times, feeding the predictions back into the model each time. Most likely you'll
   * want to make sure to be in model.eval() mode of operation for this. Runs under noGrad.
   */
  generate(idx: Tensor, maxNewTokens: number, temperature = 1.0, topK: number | null = null): Tensor {
    return noGrad(() => {
      let out = idx;
      for (let i = 0; i < maxNewTokens; i++) {
        // if the sequence context is growing too long we must crop it at block_size
        const idxCond = out.shape[1] <= this.config.blockSize ? out : out.slice(1, -this.config.blockSize);
        // forward the model to get the logits for the index in the sequence
        const [all] = this.forward(idxCond);
        // pluck the logits at the final step and scale by desired temperature
        let logits = all.slice(1, -1).squeeze(1).div(temperature);
        // optionally crop the logits to only the top k options (the k-th largest value by k rounds of max)
        if (topK !== null) {
          let rest = logits;
          let kth = rest.max(-1, true).values;
          for (let j = 1; j < Math.min(topK, logits.shape[1]); j++) {
            rest = rest.maskedFill(rest.sub(kth).ge(0), -Infinity);
            kth = rest.max(-1, true).values;
          }
          logits = logits.maskedFill(logits.sub(kth).lt(0), -Infinity);
        }
        // apply softmax to convert logits to (normalized) probabilities
        const probs = F.softmax(logits, -1);
        // sample from the distribution
        const idxNext = multinomial(probs, 1);
        // append sampled index to the running sequence and continue
        out = cat([out, idxNext], 1);
      }
      return out;
    });
  }
}
