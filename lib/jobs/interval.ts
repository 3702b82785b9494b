// A periodic chore (lease reapers) that never overlaps itself: a slow round on a loaded machine
// skips the next tick instead of stacking a second round on the same rows.
export function everyWithoutOverlap(intervalMs: number, round: (tick: number) => Promise<unknown>, onError: (err: unknown) => void): () => void {
  let tick = 0;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    round(++tick)
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  return () => clearInterval(timer);
}
