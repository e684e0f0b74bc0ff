"""PyTorch reference for examples/cnn (checked by test/examples/cnn-reference.test.ts).

The network of examples/cnn/model.ts (pytorch/examples mnist/main.py's CNN with a BatchNorm2d after
conv1, which has no bias) at a tiny size, from initial weights and a batch given by closed formulas that the test
evaluates too, trained for 20 steps: log-softmax + NLL loss, Adam (lr 0.01) and StepLR (step 5,
gamma 0.5) stepped every step. Dropout p = 0 and BatchNorm in train mode (batch statistics; running
statistics updated with momentum 0.1 and the unbiased batch variance), so both sides are
deterministic. Writes cnn.json beside this script: the 20 losses, every parameter's gradient after
the 20th backward, the BatchNorm buffers and the parameters after the last step.

    python3 -m venv /tmp/venv-cnn && /tmp/venv-cnn/bin/pip install torch numpy
    /tmp/venv-cnn/bin/python scripts/reference/cnn.py
"""

import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = dict(image_size=8, channels1=4, channels2=8, hidden=16, classes=4, batch=8)
STEPS = 20
LR = 0.01
STEP_SIZE = 5
GAMMA = 0.5


class Net(nn.Module):
    def __init__(self, image_size, channels1, channels2, hidden, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels1, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(channels1)
        self.conv2 = nn.Conv2d(channels1, channels2, 3)
        self.dropout1 = nn.Dropout(0.0)
        pooled = (image_size - 4) // 2
        self.fc1 = nn.Linear(channels2 * pooled * pooled, hidden)
        self.dropout2 = nn.Dropout(0.0)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = torch.flatten(self.dropout1(x), 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


def formula_value(name, p, i, shape):
    """Element i (row-major) of parameter number p (named-parameter order) of the given shape."""
    s = math.sin(0.37 * i + 1.3 * p + 0.5)
    if name.endswith("bn1.weight"):
        return 1 + 0.1 * s
    if len(shape) == 1:
        return 0.1 * s
    fan_in = math.prod(shape) // shape[0]
    return s / math.sqrt(fan_in)


def formula_batch(batch, size, classes):
    x = [
        [[[math.sin(0.7 * (n + 1) + 0.45 * h + 0.25 * w * (1 + n % 3)) for w in range(size)] for h in range(size)]]
        for n in range(batch)
    ]
    return torch.tensor(x, dtype=torch.float32), torch.tensor([n % classes for n in range(batch)], dtype=torch.int64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def main():
    torch.use_deterministic_algorithms(True)
    c = CONFIG
    model = Net(c["image_size"], c["channels1"], c["channels2"], c["hidden"], c["classes"])
    with torch.no_grad():
        for p, (name, param) in enumerate(model.named_parameters()):
            values = [formula_value(name, p, i, list(param.shape)) for i in range(param.numel())]
            param.copy_(torch.tensor(values, dtype=torch.float64).reshape(param.shape).to(torch.float32))
    x, y = formula_batch(c["batch"], c["image_size"], c["classes"])
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=STEP_SIZE, gamma=GAMMA)
    model.train()
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    out = {
        "torch": torch.__version__,
        "config": c,
        "steps": STEPS,
        "lr": LR,
        "stepSize": STEP_SIZE,
        "gamma": GAMMA,
        "losses": losses,
        # Gradients of the 20th backward, by gradflow's camelCase names.
        "grads": {name: flat(p.grad) for name, p in model.named_parameters()},
        "params": {name: flat(p) for name, p in model.named_parameters()},
        "runningMean": flat(model.bn1.running_mean),
        "runningVar": flat(model.bn1.running_var),
        "numBatchesTracked": int(model.bn1.num_batches_tracked),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cnn.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: loss {losses[0]:.6f} -> {losses[-1]:.6f}")


if __name__ == "__main__":
    main()
