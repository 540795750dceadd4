import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { currentCorrelation } from '@modulith/core';
import { toHttpError } from './http-error';

interface ReplyLike {
  status(code: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(payload: unknown): unknown;
}

/**
 * Every error a controller throws leaves as `HttpErrorBody`; a 500 is logged with its cause, a
 * 503 (database, or a remote module, unavailable) with its message and a `retry-after`.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = toHttpError(error);
    const reply = host.switchToHttp().getResponse<ReplyLike>();
    if (response.statusCode === 503) {
      this.logger.warn(`${response.code ? 'remote module' : 'database'} unavailable: ${(error as Error)?.message ?? String(error)}`);
      reply.header('retry-after', '1');
    } else if (response.statusCode >= 500) {
      logUnexpected(this.logger, error);
    }
    reply.status(response.statusCode).send(response);
  }
}

export function logUnexpected(logger: Logger, error: unknown): void {
  const correlationId = currentCorrelation()?.correlationId;
  logger.error(
    { message: `unexpected error: ${(error as Error)?.message ?? String(error)}`, correlationId },
    (error as Error)?.stack,
  );
}
