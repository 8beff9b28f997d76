/**
 * An image into a model's input: a PNG (decoded by pngjs) resized to the
 * configured height, its width following the aspect ratio (bilinear, as
 * PaddleOCR's recogniser expects), normalised per channel into float32 NCHW.
 * The size is read from the PNG header and bounded before anything is decoded.
 */
import { PNG } from 'pngjs';
import { RequestError } from '@veritee/attestations';
import type { ImageSpec } from './config.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function invalid(message: string): never {
  throw new RequestError(400, 'MODEL_INPUT_INVALID', `image ${message}`);
}

export interface ImageTensor {
  readonly data: Float32Array;
  /** [1, 3, height, width] */
  readonly dims: readonly [number, number, number, number];
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  if (bytes.byteLength < 24 || PNG_SIGNATURE.some((byte, index) => bytes[index] !== byte))
    invalid('is not a PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (Buffer.from(bytes.subarray(12, 16)).toString('latin1') !== 'IHDR') invalid('is not a PNG');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * @throws RequestError MODEL_INPUT_INVALID for anything but a PNG within the configured size
 */
export function imageTensor(bytes: Uint8Array, spec: ImageSpec): ImageTensor {
  const { width, height } = pngSize(bytes);
  if (width === 0 || height === 0 || width * height > spec.maxPixels)
    invalid(`must have 1 to ${spec.maxPixels} pixels`);
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    return invalid('is not a PNG that decodes');
  }
  const outHeight = spec.height;
  const outWidth = Math.max(
    1,
    Math.min(spec.maxWidth, Math.ceil((outHeight * png.width) / png.height)),
  );
  const plane = outHeight * outWidth;
  const data = new Float32Array(3 * plane);
  // Channel c of the output takes source channel order[c] (RGBA source).
  const order = spec.channels === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  const scaleX = png.width / outWidth;
  const scaleY = png.height / outHeight;
  const pixels = png.data;
  for (let y = 0; y < outHeight; y++) {
    // Pixel centres, as OpenCV's INTER_LINEAR maps them.
    const sy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), png.height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, png.height - 1);
    const fy = sy - y0;
    for (let x = 0; x < outWidth; x++) {
      const sx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), png.width - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, png.width - 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const source = order[c] as number;
        const at = (row: number, column: number) => {
          const index = (row * png.width + column) * 4;
          // Transparent pixels read as white, like paper.
          const alpha = (pixels[index + 3] as number) / 255;
          return (pixels[index + source] as number) * alpha + 255 * (1 - alpha);
        };
        const value =
          (at(y0, x0) * (1 - fx) + at(y0, x1) * fx) * (1 - fy) +
          (at(y1, x0) * (1 - fx) + at(y1, x1) * fx) * fy;
        data[c * plane + y * outWidth + x] =
          (value / 255 - (spec.mean[c] as number)) / (spec.std[c] as number);
      }
    }
  }
  return { data, dims: [1, 3, outHeight, outWidth] };
}
