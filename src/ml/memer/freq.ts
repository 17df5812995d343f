/**
 * The decoder's `freq` input (paper eq. 3-4): a post's view count normalised so that 0 is brand new and 1 is the
 * maturity threshold M (log scale, so the first views move it most; clamped at 1 past M). Training and serving must
 * use the same function.
 */
export function normalizedFreq(views: number, threshold: number | null): number {
  if (!threshold || threshold <= 0) return 0;
  return Math.min(1, Math.log1p(Math.max(0, views)) / Math.log1p(threshold));
}
