/**
 * Browser bundle entry for the nanoGPT port: readies WebGPU through navigator.gpu and trains the
 * port exactly as the PyTorch reference run (test/nanogpt/reference-run.ts) for a few iterations.
 * The test passes the reference JSON and the text in from Node.
 */
import { initWebGPU } from '@gradflow/autograd';
import { runLikeReference, type Recorded, type Reference } from '../nanogpt/reference-run.js';

declare global {
  interface Window {
    gradflowNanoGPT: (reference: Reference, text: string, iters: number) => Promise<{ adapter: string; recorded: Recorded }>;
  }
}

window.gradflowNanoGPT = async (reference, text, iters) => {
  const info = await initWebGPU();
  const recorded = await runLikeReference(reference, text, 'webgpu', iters);
  return { adapter: `${info.vendor}/${info.architecture}`, recorded };
};
