"""
PyTorch reference numbers for the nanoGPT port (examples/nanogpt), checked by test/nanogpt/nanogpt.test.ts.

Builds nanoGPT's model (the architecture of karpathy/nanoGPT model.py, written out here: LayerNorm with
bias, CausalSelfAttention through F.scaled_dot_product_attention(is_causal=True), MLP with exact GELU,
pre-norm Blocks, tied wte/lm_head) and runs nanoGPT's train.py loop for 20 iterations: AdamW with the
two param groups of configure_optimizers, get_lr (cosine with warmup), gradient accumulation (2
micro-steps), clip_grad_norm_(1.0), estimate_loss in eval mode under no_grad. Dropout is 0, so the
run is deterministic. Nothing random is shared between the two sides: the initial weights and the
batch offsets come from integer formulas (INIT and OFFSETS below) that the test repeats in TypeScript,
on the bundled text examples/nanogpt/data/input.txt, prepared as nanoGPT's shakespeare_char/prepare.py.

The reference is the float64 run. The same run in float32 is done too, and its deviation from float64
is written out: the error a correct float32 implementation makes here, which the test's tolerances
are derived from.

Run (PyTorch is not needed by CI; this file and its output are committed):
    python3 -m venv --system-site-packages /tmp/venv && /tmp/venv/bin/pip install torch
    # where pip cannot reach an index but has the wheel (checked 2026-12-06, torch 2.13.0+cpu; typing_extensions,
    # sympy etc. then come from the system site-packages):
    #   /tmp/venv/bin/pip install --no-deps --no-index /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
    /tmp/venv/bin/python scripts/reference/nanogpt.py      # writes scripts/reference/nanogpt.json
    npx prettier --write scripts/reference/nanogpt.json
"""

import json
import math
import os

import torch
import torch.nn as nn
from torch.nn import functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'scripts', 'reference', 'nanogpt.json')

CFG = dict(
    n_layer=2, n_head=2, n_embd=16, block_size=16, bias=True, dropout=0.0,
    batch_size=4, gradient_accumulation_steps=2,
    learning_rate=1e-2, max_iters=19, weight_decay=0.1, beta1=0.9, beta2=0.99, grad_clip=1.0,
    decay_lr=True, warmup_iters=5, lr_decay_iters=15, min_lr=1e-3,
    eval_interval=10, eval_iters=2,
)
# Tensors recorded in full (the rest by their norms).
GRAD_FULL = ['transformer.wte.weight', 'transformer.h.0.attn.c_attn.weight', 'transformer.h.0.mlp.c_fc.weight', 'transformer.h.1.mlp.c_proj.bias',
             'transformer.ln_f.weight']
PARAM_FULL = ['transformer.wpe.weight', 'transformer.h.1.attn.c_proj.weight']
M = 2147483647  # 2^31 - 1: Park-Miller's modulus; every product below is an exact integer in a float64 too


def name_seed(name):
    h = 7
    for ch in name:
        h = (h * 31 + ord(ch)) % M
    return h if h != 0 else 1


def init_values(name, numel, n_layer):
    """INIT: Park-Miller uniforms u in (0, 1) seeded by the parameter's name, mapped per kind."""
    x = name_seed(name)
    if name.endswith('c_proj.weight'):
        center, scale = 0.0, 0.02 / math.sqrt(2 * n_layer) * math.sqrt(12)
    elif name.endswith('c_fc.weight'):
        # std 0.5, not nanoGPT's 0.02: GELU's inputs then have a spread of order 1, where its exact (erf)
        # and tanh forms differ; at 0.02 they are ~0.1 and the two agree to 1e-9, so no test could tell
        center, scale = 0.0, 0.5 * math.sqrt(12)
    elif name.endswith('.weight') and ('ln_' in name):
        center, scale = 1.0, 0.2
    elif name.endswith('.bias'):
        center, scale = 0.0, 0.02
    else:
        center, scale = 0.0, 0.02 * math.sqrt(12)  # std 0.02, as nanoGPT's normal_(0, 0.02)
    out = []
    for _ in range(numel):
        x = (x * 48271) % M
        out.append(center + scale * (x / M - 0.5))
    return out


def offsets(counter, split, length, cfg):
    """OFFSETS: batch row starts for the counter-th get_batch call of a split."""
    salt = 0 if split == 'train' else 101
    return [((counter * cfg['batch_size'] + b) * 7919 + salt) % (length - cfg['block_size']) for b in range(cfg['batch_size'])]


class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c['n_embd'], 3 * c['n_embd'], bias=c['bias'])
        self.c_proj = nn.Linear(c['n_embd'], c['n_embd'], bias=c['bias'])
        self.n_head, self.n_embd = c['n_head'], c['n_embd']

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c['n_embd'], 4 * c['n_embd'], bias=c['bias'])
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * c['n_embd'], c['n_embd'], bias=c['bias'])

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c['n_embd'], c['bias'])
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c['n_embd'], c['bias'])
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c['vocab_size'], c['n_embd']),
            wpe=nn.Embedding(c['block_size'], c['n_embd']),
            h=nn.ModuleList([Block(c) for _ in range(c['n_layer'])]),
            ln_f=LayerNorm(c['n_embd'], c['bias']),
        ))
        self.lm_head = nn.Linear(c['n_embd'], c['vocab_size'], bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx, targets):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)


def prepare(text):
    chars = sorted(list(set(text)))
    stoi = {ch: i for i, ch in enumerate(chars)}
    n = len(text)
    return len(chars), [stoi[c] for c in text[:int(n * 0.9)]], [stoi[c] for c in text[int(n * 0.9):]]


def get_lr(it, c):
    if it < c['warmup_iters']:
        return c['learning_rate'] * (it + 1) / (c['warmup_iters'] + 1)
    if it > c['lr_decay_iters']:
        return c['min_lr']
    decay_ratio = (it - c['warmup_iters']) / (c['lr_decay_iters'] - c['warmup_iters'])
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return c['min_lr'] + coeff * (c['learning_rate'] - c['min_lr'])


def run(dtype, text):
    c = dict(CFG)
    vocab_size, train_ids, val_ids = prepare(text)
    c['vocab_size'] = vocab_size
    data = {'train': torch.tensor(train_ids, dtype=torch.long), 'val': torch.tensor(val_ids, dtype=torch.long)}
    counters = {'train': 0, 'val': 0}

    def get_batch(split):
        d = data[split]
        ix = offsets(counters[split], split, len(d), c)
        counters[split] += 1
        x = torch.stack([d[i:i + c['block_size']] for i in ix])
        y = torch.stack([d[i + 1:i + 1 + c['block_size']] for i in ix])
        return x, y

    model = GPT(c)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.tensor(init_values(name, p.numel(), c['n_layer']), dtype=torch.float64).view(p.shape))
    model = model.to(dtype)
    params = dict(model.named_parameters())
    decay = [p for n, p in params.items() if p.dim() >= 2]
    nodecay = [p for n, p in params.items() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': c['weight_decay']}, {'params': nodecay, 'weight_decay': 0.0}],
                                  lr=c['learning_rate'], betas=(c['beta1'], c['beta2']))

    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ['train', 'val']:
            losses = torch.zeros(c['eval_iters'], dtype=torch.float64)
            for k in range(c['eval_iters']):
                X, Y = get_batch(split)
                _, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean().item()
        model.train()
        return out

    rec = {'lr': [], 'microLosses': [], 'gradNorm': [], 'eval': {}, 'grads': {}}
    X, Y = get_batch('train')
    iter_num = 0
    while True:
        lr = get_lr(iter_num, c)
        for g in optimizer.param_groups:
            g['lr'] = lr
        if iter_num % c['eval_interval'] == 0:
            rec['eval'][str(iter_num)] = estimate_loss()
        micro = []
        for _ in range(c['gradient_accumulation_steps']):
            _, loss = model(X, Y)
            micro.append(loss.item())
            loss = loss / c['gradient_accumulation_steps']
            X, Y = get_batch('train')
            loss.backward()
        if iter_num in (0, c['max_iters']):
            rec['grads'][str(iter_num)] = {
                'norms': {n: p.grad.norm().item() for n, p in params.items()},
                'full': {n: params[n].grad.flatten().tolist() for n in GRAD_FULL},
            }
        rec['gradNorm'].append(torch.nn.utils.clip_grad_norm_(model.parameters(), c['grad_clip']).item())
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        rec['lr'].append(lr)
        rec['microLosses'].append(micro)
        iter_num += 1
        if iter_num > c['max_iters']:
            break
    rec['params'] = {
        'norms': {n: p.detach().norm().item() for n, p in params.items()},
        'full': {n: params[n].detach().flatten().tolist() for n in PARAM_FULL},
    }
    return c, rec


def rel_dev(a, b):
    """max |a - b| / max |b| over two equally nested lists or dicts of numbers"""
    fa, fb = [], []

    def walk(x, y):
        if isinstance(x, dict):
            for k in x:
                walk(x[k], y[k])
        elif isinstance(x, list):
            for u, v in zip(x, y):
                walk(u, v)
        else:
            fa.append(x)
            fb.append(y)
    walk(a, b)
    return max(abs(u - v) for u, v in zip(fa, fb)) / max(abs(v) for v in fb)


def rounded(x, digits=9):
    if isinstance(x, dict):
        return {k: rounded(v, digits) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v, digits) for v in x]
    return float(f'{x:.{digits}g}') if isinstance(x, float) else x


def main():
    torch.use_deterministic_algorithms(True)
    with open(os.path.join(ROOT, 'examples', 'nanogpt', 'data', 'input.txt'), encoding='utf-8') as f:
        text = f.read()
    c, ref = run(torch.float64, text)
    _, f32 = run(torch.float32, text)
    deviation = {
        'microLosses': rel_dev(f32['microLosses'], ref['microLosses']),
        'gradNorm': rel_dev(f32['gradNorm'], ref['gradNorm']),
        'eval': rel_dev(f32['eval'], ref['eval']),
        'gradsStep0': max(rel_dev(f32['grads']['0']['full'][n], ref['grads']['0']['full'][n]) for n in GRAD_FULL),
        'gradsLast': max(rel_dev(f32['grads'][str(c['max_iters'])]['full'][n], ref['grads'][str(c['max_iters'])]['full'][n]) for n in GRAD_FULL),
        'gradNormsLast': max(abs(f32['grads'][str(c['max_iters'])]['norms'][n] / v - 1) for n, v in ref['grads'][str(c['max_iters'])]['norms'].items()),
        'params': max(rel_dev(f32['params']['full'][n], ref['params']['full'][n]) for n in PARAM_FULL),
        'paramNorms': max(abs(f32['params']['norms'][n] / v - 1) for n, v in ref['params']['norms'].items()),
    }
    out = {
        'about': 'PyTorch float64 reference for examples/nanogpt: scripts/reference/nanogpt.py wrote this; test/nanogpt/nanogpt.test.ts reads it',
        'torch': torch.__version__,
        'config': c,
        'gradFull': GRAD_FULL,
        'paramFull': PARAM_FULL,
        'reference': rounded(ref),
        'float32Deviation': rounded(deviation, 3),
    }
    with open(OUT, 'w') as f:
        json.dump(out, f)
        f.write('\n')
    print(json.dumps(out['float32Deviation'], indent=1))
    print('losses', [round(sum(m) / len(m), 4) for m in ref['microLosses']])
    print('grad norms', [round(g, 4) for g in ref['gradNorm']])
    print(f'wrote {OUT} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
