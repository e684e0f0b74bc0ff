export { grad } from './grad.js';
export type { GradOptions } from './grad.js';
export { Node } from './node.js';
export { onBackward } from './engine.js';
export { onNonLeafGradRead } from '../observe.js';
