/**
 * The network of pytorch/examples `mnist/main.py` (conv 3×3 → ReLU → conv 3×3 → ReLU → max-pool 2
 * → dropout → flatten → linear → ReLU → dropout → linear → log-softmax), shrunk to small images,
 * with a BatchNorm2d after the first convolution (which therefore has no bias).
 */
import { nn, type Tensor } from '@gradflow/autograd';

export interface NetConfig {
  /** Side of the square single-channel input images. */
  imageSize: number;
  channels1: number;
  channels2: number;
  hidden: number;
  classes: number;
  /** Dropout probabilities (main.py: 0.25 after pooling, 0.5 after fc1). */
  dropout1: number;
  dropout2: number;
}

export const DEFAULT_CONFIG: NetConfig = {
  imageSize: 12,
  channels1: 16,
  channels2: 32,
  hidden: 64,
  classes: 6,
  dropout1: 0.25,
  dropout2: 0.5,
};

export class Net extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  pool = new nn.MaxPool2d(2);
  dropout1: nn.Dropout;
  fc1: nn.Linear;
  dropout2: nn.Dropout;
  fc2: nn.Linear;

  constructor(readonly config: NetConfig = DEFAULT_CONFIG) {
    super();
    const { imageSize, channels1, channels2, hidden, classes } = config;
    // No bias before a BatchNorm: the normalisation subtracts any per-channel constant, so the bias
    // would get an exactly-zero gradient (PyTorch's ResNets write bias=False here too; with a bias,
    // Adam turns that gradient's rounding noise into full-size steps of a parameter that does nothing).
    this.conv1 = new nn.Conv2d(1, channels1, 3, { bias: false });
    this.bn1 = new nn.BatchNorm2d(channels1);
    this.conv2 = new nn.Conv2d(channels1, channels2, 3);
    this.dropout1 = new nn.Dropout(config.dropout1);
    // Two valid 3×3 convolutions take 4 pixels off each side, the pooling halves what is left.
    const pooled = Math.floor((imageSize - 4) / 2);
    this.fc1 = new nn.Linear(channels2 * pooled * pooled, hidden);
    this.dropout2 = new nn.Dropout(config.dropout2);
    this.fc2 = new nn.Linear(hidden, classes);
  }

  /** Log-probabilities [N, classes] of images [N, 1, imageSize, imageSize]. */
  forward(x: Tensor): Tensor {
    let h = this.conv1.forward(x);
    h = this.bn1.forward(h).relu();
    h = this.conv2.forward(h).relu();
    h = this.pool.forward(h);
    h = this.dropout1.forward(h).flatten(1);
    h = this.fc1.forward(h).relu();
    h = this.dropout2.forward(h);
    return this.fc2.forward(h).logSoftmax(1);
  }
}
