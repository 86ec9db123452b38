/**
 * Calls `tick` with the time every `everyMs` while the page is visible. Relative times
 * ("refreshed 3 min ago") need it only on screen; the window spends most of the day
 * hidden in the tray, where a timer would wake the web process for nothing. On showing
 * again it ticks at once. Returns the function that stops it.
 */
export function startClock(tick: (now: Date) => void, everyMs: number): () => void {
  let timer: ReturnType<typeof setInterval> | null = null;
  const run = () => {
    timer = setInterval(() => tick(new Date()), everyMs);
  };
  const pause = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const follow = () => {
    pause();
    if (document.visibilityState === "hidden") return;
    tick(new Date());
    run();
  };
  if (document.visibilityState !== "hidden") run();
  document.addEventListener("visibilitychange", follow);
  return () => {
    document.removeEventListener("visibilitychange", follow);
    pause();
  };
}
