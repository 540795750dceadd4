import { BadRequestException, NotFoundException } from '@nestjs/common';
import {
  CallDeadlineExceededError,
  ConflictError,
  ModuleNotHostedError,
  NotFoundError,
  PayloadTooLargeError,
  RemoteHandlerError,
  ReplicaLostError,
  ValidationError,
} from '@modulith/core';
import { toHttpError } from './http-error';

describe('toHttpError', () => {
  it('maps typed errors to their status and keeps the field', () => {
    expect(toHttpError(new ValidationError('transfers[2].amount', 'must be positive'))).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'transfers[2].amount: must be positive',
      code: 'VALIDATION_FAILED',
      field: 'transfers[2].amount',
    });
    expect(toHttpError(new ConflictError('exists')).statusCode).toBe(409);
    expect(toHttpError(new NotFoundError('gone')).statusCode).toBe(404);
    expect(toHttpError(new PayloadTooLargeError('too many')).statusCode).toBe(413);
  });

  it('answers 503 or 504 naming the module when a remote call found no replica, lost it, or timed out; 500 for a remote bug', () => {
    expect(toHttpError(new ModuleNotHostedError('ledger', 'ledger.get-balance'))).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'ledger: not running right now, retry later',
      code: 'MODULE_NOT_HOSTED',
    });
    expect(toHttpError(new ReplicaLostError('replica host:1:ab lost', { module: 'ledger' }))).toMatchObject({ statusCode: 503, code: 'REPLICA_LOST' });
    expect(toHttpError(new CallDeadlineExceededError('late', { module: 'ledger' }))).toMatchObject({
      statusCode: 504,
      error: 'Gateway Timeout',
      message: 'ledger: no answer in time, retry shortly',
    });
    expect(toHttpError(new RemoteHandlerError('ledger.get-balance failed: TypeError: x is undefined', { module: 'ledger' }))).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
    });
  });

  it('rewords Fastify parser errors to name what was wrong', () => {
    expect(toHttpError({ code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 })).toMatchObject({ statusCode: 400, message: 'body: malformed JSON' });
    expect(toHttpError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).toMatchObject({ statusCode: 413 });
    expect(toHttpError(new SyntaxError('Unexpected token } in JSON'))).toMatchObject({ statusCode: 400, message: 'body: malformed JSON' });
  });

  it('passes Nest HTTP exceptions through', () => {
    expect(toHttpError(new NotFoundException('no such transfer'))).toMatchObject({ statusCode: 404, message: 'no such transfer' });
    expect(toHttpError(new BadRequestException(['a', 'b']))).toMatchObject({ statusCode: 400, message: 'a; b' });
  });

  it('answers 503 when the database is unreachable or dropped the connection', () => {
    const unavailable = { statusCode: 503, error: 'Service Unavailable', message: 'database: temporarily unavailable, retry shortly' };
    expect(toHttpError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toEqual(unavailable);
    expect(toHttpError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toEqual(unavailable);
    expect(toHttpError({ message: 'x', driverError: { code: '08006' } })).toEqual(unavailable);
    expect(toHttpError(new Error('Connection terminated unexpectedly'))).toEqual(unavailable);
    expect(toHttpError(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]))).toEqual(unavailable);
    expect(toHttpError(Object.assign(new Error('duplicate key'), { code: '23505' })).statusCode).toBe(500);
  });

  it('hides everything about an unexpected error', () => {
    const response = toHttpError(new TypeError('cannot read properties of undefined (reading "secret")'));
    expect(response).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' });
  });

  it('answers 503 (retry) for every way a lost database surfaces', () => {
    const released = Object.assign(new Error('Query runner already released. Cannot run queries anymore.'), { name: 'QueryRunnerAlreadyReleasedError' });
    for (const error of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      new Error('Connection terminated unexpectedly'),
      new Error('Client was closed and is not queryable'),
      new Error('the database system is starting up'),
      released,
      Object.assign(new Error('Database connection provided by a query runner was already released, cannot continue to use its querying methods anymore.'), {
        name: 'QueryRunnerProviderAlreadyReleasedError',
      }),
      new Error('wrapped', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }),
    ]) {
      expect(toHttpError(error)).toMatchObject({ statusCode: 503 });
    }
    expect(toHttpError(Object.assign(new Error('duplicate key'), { code: '23505' })).statusCode).toBe(500);
  });

  it('answers 503 (retry) when the database is busy: no free connection, a lock or a statement past its bound', () => {
    const busy = [
      [new Error('timeout exceeded when trying to connect'), 'database: every connection is busy, retry shortly'],
      [Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }), 'database: the data is locked by another transaction, retry shortly'],
      [{ message: 'x', driverError: { code: '55P03' } }, 'database: the data is locked by another transaction, retry shortly'],
      [Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), 'database: the query took too long, retry shortly'],
      [new Error('Query read timeout'), 'database: no answer in time, retry shortly'],
      [Object.assign(new Error('terminating connection due to idle-in-transaction timeout'), { code: '25P03' }), 'database: temporarily unavailable, retry shortly'],
      [new Error('Connection terminated due to connection timeout'), 'database: temporarily unavailable, retry shortly'],
    ] as const;
    for (const [error, message] of busy) {
      expect(toHttpError(error)).toEqual({ statusCode: 503, error: 'Service Unavailable', message });
    }
  });
});
