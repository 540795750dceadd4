// A progress bar for long-running scripts: redrawn in place on a terminal, a line per 10% otherwise.
export function progress(label, total) {
  const tty = process.stderr.isTTY;
  const started = Date.now();
  let done = 0;
  let lastDecile = -1;
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = Date.now();
    const fraction = total ? Math.min(1, done / total) : 1;
    const rate = Math.round(done / Math.max(0.001, (now - started) / 1000));
    const text = `${label} ${'#'.repeat(Math.round(fraction * 30)).padEnd(30, '-')} ${done.toLocaleString()}/${total.toLocaleString()} ${rate.toLocaleString()}/s`;
    if (tty) {
      if (force || now - lastDraw > 100) {
        process.stderr.write(`\r${text}`);
        lastDraw = now;
      }
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        process.stderr.write(`${text}\n`);
      }
    }
  };
  return {
    advance(count = 1) {
      done += count;
      draw();
    },
    done() {
      draw(true);
      if (tty) process.stderr.write('\n');
    },
  };
}
