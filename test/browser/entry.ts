/** Browser bundle entry: readies WebGPU through navigator.gpu and exposes the training run to the test. */
import { initWebGPU } from '../../packages/autograd/src/index.js';
import { trainSmallModel } from './train.js';

declare global {
  interface Window {
    gradflowTrain: () => Promise<{ adapter: string; losses: number[] }>;
  }
}

window.gradflowTrain = async () => {
  const info = await initWebGPU();
  const losses = await trainSmallModel('webgpu');
  return { adapter: `${info.vendor}/${info.architecture}`, losses };
};
