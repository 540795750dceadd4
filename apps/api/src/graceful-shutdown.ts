import type { INestApplication, LoggerService } from '@nestjs/common';

const EXIT_GRACE_MS = 500;

/**
 * On SIGTERM or SIGINT: stop accepting connections and let in-flight requests finish, then
 * close the app (modules drain, the relay stops, the pool closes last). A second signal, or
 * the timeout, exits at once. `timeoutMs` contains messaging's drain budget with a reserve
 * (see `appConfigFromEnv`), so messaging gives up and names what it abandoned first.
 * `afterClose` runs once the app closed, inside the same timeout (e.g. flushing traces): it is
 * given the milliseconds left of it (less the exit grace), and must finish within them.
 */
export function closeOnSignals(app: INestApplication, logger: LoggerService, timeoutMs: number, afterClose?: (remainingMs: number) => Promise<void> | undefined): void {
  let closing = false;
  const close = async (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn(`${signal} again: exiting now`, 'Shutdown');
      process.exit(1);
    }
    closing = true;
    logger.log(`${signal} received: shutting down`, 'Shutdown');
    const deadline = Date.now() + timeoutMs;
    const timer = setTimeout(() => {
      logger.error(`shutdown took longer than ${timeoutMs} ms: exiting`, undefined, 'Shutdown');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    // Keep-alive sockets that go idle after their last response would hold the close open.
    const server = app.getHttpServer() as { closeIdleConnections?: () => void };
    const reaper = setInterval(() => server.closeIdleConnections?.(), 100);
    try {
      await app.close();
      logger.log('shut down cleanly', 'Shutdown');
      process.exitCode = 0;
    } catch (error) {
      logger.error(`shutdown failed: ${(error as Error).message}`, (error as Error).stack, 'Shutdown');
      process.exitCode = 1;
    } finally {
      clearInterval(reaper);
    }
    await Promise.resolve(afterClose?.(Math.max(0, deadline - Date.now() - 2 * EXIT_GRACE_MS))).catch((error: Error) => logger.warn(`after shutdown: ${error.message}`, 'Shutdown'));
    // Whatever close() abandoned (a handler call that never returns, its timers) must not keep
    // the process alive: leave once the log lines are out, well inside the budget.
    setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
  };
  process.on('SIGTERM', (signal) => void close(signal));
  process.on('SIGINT', (signal) => void close(signal));
}
