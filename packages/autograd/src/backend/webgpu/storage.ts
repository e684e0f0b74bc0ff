/// <reference types="@webgpu/types" />
import type { DType } from '../../dtype.js';
import type { Backend, Storage } from '../backend.js';

/** A tensor's memory on the GPU: `size` elements of `dtype` (float32 or int32) in `buffer`. */
export class WebGPUStorage implements Storage {
  version = 0;
  constructor(
    readonly backend: Backend,
    readonly buffer: GPUBuffer,
    readonly size: number,
    readonly dtype: DType,
  ) {}
}
