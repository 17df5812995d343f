/**
 * A decoded image as the extractors take it: the media decoder produces it, the visual extractor consumes it.
 *
 * `data` is interleaved RGB, row-major (height, width, channel: HWC), each value in [0, 1]; its length is
 * width * height * 3. No alpha, no colour profile: the decoder flattens and converts to sRGB.
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}
