import type { LoggerService } from '@nestjs/common';
import { diag } from '@opentelemetry/api';
import { reportTracingProblems, shutdownTracing } from './tracing-reports';

function recordingLogger(): LoggerService & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, log: () => undefined, error: () => undefined, warn: (message: string) => void warnings.push(message) };
}

describe('reportTracingProblems', () => {
  afterEach(() => diag.disable());

  it('logs the first SDK error at once, then at most one per interval with the count held back', () => {
    const logger = recordingLogger();
    let now = 0;
    reportTracingProblems(logger, 60_000, () => now);
    diag.error('OTLPExporterError: Service Unavailable', new Error('503'));
    diag.error('again');
    diag.warn('and again');
    diag.info('not a problem');
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('Service Unavailable');
    expect(logger.warnings[0]).toContain('spans may be dropped');
    now = 60_000;
    diag.error('still down');
    expect(logger.warnings).toHaveLength(2);
    expect(logger.warnings[1]).toContain('still down');
    expect(logger.warnings[1]).toContain('2 more since the last report');
  });
});

describe('shutdownTracing', () => {
  it('gives up on a flush that never ends once the budget is spent, and says spans were dropped', async () => {
    const logger = recordingLogger();
    await shutdownTracing({ shutdown: () => new Promise<void>(() => undefined) }, 20, logger);
    expect(logger.warnings).toEqual([expect.stringContaining('unflushed spans dropped')]);
  });

  it('says nothing when the flush finishes, and reports a failed one', async () => {
    const logger = recordingLogger();
    await shutdownTracing({ shutdown: () => Promise.resolve() }, 1000, logger);
    await shutdownTracing(undefined, 1000, logger);
    expect(logger.warnings).toEqual([]);
    await shutdownTracing({ shutdown: () => Promise.reject(new Error('refused')) }, 1000, logger);
    expect(logger.warnings).toEqual([expect.stringContaining('refused')]);
  });
});
