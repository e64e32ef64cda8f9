/**
 * CPU kernels of the fused InfoNCE step (lib/align/aligner.ts infoNCE): thin wrappers over
 * native/binding/bind_contrastive.cc (native/core/contrastive.h), which compute in float64 in
 * the order of the host loop they replaced.
 * @internal
 */
import { checkSize, squareSide } from '../contrastive_checks.js';
import { empty, uninitialized } from '../creation.js';
import type { KernelGroup } from '../kernel_table.js';
import { native } from '../native.js';

declare module '../native.js' {
  interface NativeAddon {
    infoNceLogits(s: Float32Array, mask: Float32Array | null, b: number, temperature: number, out: Float32Array): void;
    infoNceLoss(lseR: Float32Array, lseC: Float32Array, l: Float32Array, b: number, out: Float32Array): void;
    infoNceGrad(pr: Float32Array, pc: Float32Array, dy: Float32Array, b: number, temperature: number, out: Float32Array): void;
  }
}

/** The fused InfoNCE kernels on the CPU. @internal */
export const cpuContrastiveKernels = {
  infoNceLogits: ({ s, mask }, { temperature }) => {
    const b = squareSide(s, 's');
    if (mask) checkSize(mask, b * b, 'mask');
    const out = uninitialized([b, b]); // every element written
    native.infoNceLogits(s.f32('s'), mask ? mask.f32('mask') : null, b, temperature, out.f32());
    return out;
  },

  infoNceLoss: ({ lseR, lseC, l }) => {
    const b = squareSide(l, 'l');
    checkSize(lseR, b, 'lseR');
    checkSize(lseC, b, 'lseC');
    const out = empty([]);
    native.infoNceLoss(lseR.f32('lseR'), lseC.f32('lseC'), l.f32('l'), b, out.f32());
    return out;
  },

  infoNceGrad: ({ pr, pc, dy }, { temperature }) => {
    const b = squareSide(pr, 'pr');
    checkSize(pc, b * b, 'pc');
    checkSize(dy, 1, 'dy');
    const out = uninitialized([b, b]); // every element written
    native.infoNceGrad(pr.f32('pr'), pc.f32('pc'), dy.f32('dy'), b, temperature, out.f32());
    return out;
  },
} satisfies KernelGroup;
