// The generated training script that bench/lsp.mjs and rules/scripts/profile-analysis.mjs both time.
/**
 * A training script of ~1,000 lines: experiment blocks, each with its models, optimizer and loop;
 * every fifth block carries the mistakes the rules catch.
 */
export function trainingFile(targetLines = 1000) {
  const lines = ["import { nn, optim, randn, noGrad } from '@gradflow/autograd';", '', 'const steps = 10;', ''];
  for (let i = 0; lines.length < targetLines - 30; i++) {
    const buggy = i % 5 === 0;
    lines.push(
      `// experiment ${i}`,
      `{`,
      `  const encoder = new nn.Linear(8, 16);`,
      `  const head = new nn.Linear(16, 1);`,
      `  const scale = randn([8, 1], { requiresGrad: true });`,
      `  const optimizer = new optim.Adam([...encoder.parameters(), ...head.parameters(), scale], { lr: 0.01 });`,
      buggy ? `  scale.mul_(0.5);` : `  noGrad(() => scale.mul_(0.5));`,
      `  let last = 0;`,
      `  for (let step = 0; step < steps; step++) {`,
      buggy ? `    optimizer.zeroGrad();` : `    optimizer.zeroGrad({ setToNone: true });`,
      `    const x = randn([32, 8]);`,
      `    const target = x.matmul(scale);`,
      `    const hidden = encoder.forward(x).relu();`,
      `    const loss = head.forward(hidden).sub(target).pow(2).mean();`,
      `    loss.backward();`,
      `    optimizer.step();`,
      `    last = loss.item();`,
      `  }`,
      buggy ? `  encoder.weight.requiresGrad = false;` : `  // encoder stays trainable`,
      `  console.log(last);`,
      `}`,
      '',
    );
  }
  while (lines.length < targetLines) lines.push(`// padding line ${lines.length}`);
  return `${lines.join('\n')}\n`;
}
