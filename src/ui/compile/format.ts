// Number formatting for the compile views.

export function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n));
}

export function millis(seconds: number): string {
  return `${(seconds * 1e3).toFixed(3)} ms`;
}

export function shape(s: readonly number[]): string {
  return s.length ? s.join('×') : '?';
}
