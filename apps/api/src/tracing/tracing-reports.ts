import type { LoggerService } from '@nestjs/common';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

const CONTEXT = 'Tracing';

/**
 * Sends the OpenTelemetry SDK's own warnings and errors (an export the collector refused, timed
 * out or never answered: spans are being dropped) to the app's logger, as warnings: the first at
 * once, then at most one per `intervalMs` (milliseconds), saying how many were held back, so a
 * collector that is down cannot flood the log.
 */
export function reportTracingProblems(logger: LoggerService, intervalMs: number, now: () => number = Date.now): void {
  let lastAt: number | undefined;
  let heldBack = 0;
  const report = (message: string, ...args: unknown[]) => {
    const at = now();
    if (lastAt !== undefined && at - lastAt < intervalMs) {
      heldBack += 1;
      return;
    }
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ');
    const held = heldBack ? ` (${heldBack} more since the last report)` : '';
    logger.warn(`OpenTelemetry: ${message}${detail ? ` ${detail}` : ''}: spans may be dropped${held}`, CONTEXT);
    lastAt = at;
    heldBack = 0;
  };
  const ignore = () => undefined;
  const forward: DiagLogger = { error: report, warn: report, info: ignore, debug: ignore, verbose: ignore };
  diag.setLogger(forward, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

/**
 * Flushes and stops the SDK within `budgetMs` (milliseconds, what is left of the shutdown
 * budget): a collector that hangs must not hold the exit. Past the budget it logs that the
 * unflushed spans were dropped and resolves; it never rejects.
 */
export async function shutdownTracing(sdk: { shutdown(): Promise<void> } | undefined, budgetMs: number, logger: LoggerService): Promise<void> {
  if (!sdk) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, budgetMs));
    timer.unref();
  });
  try {
    const outcome = await Promise.race([sdk.shutdown().then(() => 'flushed' as const), timedOut]);
    if (outcome === 'timeout') logger.warn(`trace flush did not finish within ${Math.max(0, budgetMs)} ms of the shutdown budget: unflushed spans dropped`, CONTEXT);
  } catch (error) {
    logger.warn(`trace flush failed: ${(error as Error).message}: unflushed spans dropped`, CONTEXT);
  } finally {
    clearTimeout(timer);
  }
}
