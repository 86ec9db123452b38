/**
 * Orders by name ignoring case, as the engine orders providers. Not `localeCompare`: its
 * first use starts ICU in the web process, 6–8 ms of the first frame (BENCHMARKS.md), to
 * order a few provider names.
 */
export function byName(a: { name: string }, b: { name: string }): number {
  const [x, y] = [a.name.toLowerCase(), b.name.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : 0;
}
