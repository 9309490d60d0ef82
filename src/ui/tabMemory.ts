// Whether a model fits the tab before it is sent to a worker: a file too large is refused with a
// message instead of taking the tab down mid-parse.

/**
 * Bytes held per file byte while a model opens: the README's measured peak of 2.6× the file in the
 * worker, plus the copy the project keeps (a Blob) and the transfer.
 */
export const OPEN_PEAK_FACTOR = 3.6;
const FALLBACK_LIMIT = 2 ** 31;

/** The most this tab can hold: Chromium's heap limit, else a share of the device's memory, else 2 GiB. */
export function tabMemoryLimit(): number {
  const heap = (performance as Performance & { memory?: { jsHeapSizeLimit?: number } }).memory?.jsHeapSizeLimit;
  if (heap && heap > 0) return heap;
  const device = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  if (device && device > 0) return (device * 2 ** 30) / 4;
  return FALLBACK_LIMIT;
}

/** The one-line refusal for a file that would not fit, or null when it does. */
export function tooBigMessage(fileName: string, bytes: number, limit = tabMemoryLimit()): string | null {
  if (bytes * OPEN_PEAK_FACTOR <= limit) return null;
  const mb = (n: number) => `${Math.round(n / 1e6)} MB`;
  return `${fileName}: ${mb(bytes)} is too large for this tab (opening it needs about ${mb(bytes * OPEN_PEAK_FACTOR)}, the tab can hold about ${mb(limit)}); use the fixpoint command line for it`;
}
