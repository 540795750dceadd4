import { describeFailure, isInfrastructureFailure } from './failure';

describe('failure classification', () => {
  it('treats lost connections and server shutdowns as infrastructure, not as the handler’s fault', () => {
    expect(isInfrastructureFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isInfrastructureFailure(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isInfrastructureFailure(Object.assign(new Error('x'), { driverError: { code: '08006' } }))).toBe(true);
    expect(isInfrastructureFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('counts everything else, including constraint violations and statement timeouts, as a handler failure', () => {
    expect(isInfrastructureFailure(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isInfrastructureFailure(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toBe(false);
    expect(isInfrastructureFailure(new TypeError('cannot read x of undefined'))).toBe(false);
    expect(isInfrastructureFailure(undefined)).toBe(false);
  });

  it('keeps the message (with the error class) and the stack, bounded', () => {
    const error = new RangeError('x'.repeat(20_000));
    const description = describeFailure(error);
    expect(description.message.startsWith('RangeError: xxx')).toBe(true);
    expect(description.message.length).toBe(8000);
    expect(description.stack?.length).toBeLessThanOrEqual(8000);
    expect(describeFailure('plain string')).toEqual({ message: 'plain string', stack: null });
  });
});
