/**
 * Runs `work` once the browser has painted the frame it is preparing: a frame callback
 * runs just before that paint, and a task queued from it runs after.
 */
export function afterNextPaint(work: () => void): void {
  requestAnimationFrame(() => setTimeout(work, 0));
}
