import { ConflictError, ModuleNotHostedError, NotFoundError, RemoteHandlerError, ValidationError } from '@modulith/core';
import { errorFromWire, errorToWire } from './call-errors';

const request = { id: 'req-1', module: 'ledger', type: 'ledger.get-balance' };
const roundTrip = (error: unknown): Error => errorFromWire(JSON.parse(JSON.stringify(errorToWire(error))), request);

describe('errors across a remote call', () => {
  it('rebuilds the typed errors of @modulith/core as the same class, message and context', () => {
    const notFound = roundTrip(new NotFoundError('account acc-1 does not exist', { id: 'acc-1' }));
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound).toMatchObject({ message: 'account acc-1 does not exist', context: { id: 'acc-1' }, name: 'NotFoundError' });

    const invalid = roundTrip(new ValidationError('transfers[3].amount', 'must be positive', { index: 3 }));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid).toMatchObject({ field: 'transfers[3].amount', message: 'transfers[3].amount: must be positive', context: { index: 3 } });

    expect(roundTrip(new ConflictError('exists'))).toBeInstanceOf(ConflictError);
    const notHosted = roundTrip(new ModuleNotHostedError('analytics', 'analytics.get-analytics-totals'));
    expect(notHosted).toBeInstanceOf(ModuleNotHostedError);
    expect(notHosted).toMatchObject({ module: 'analytics' });
  });

  it('turns anything else into a RemoteHandlerError naming the remote error, with context that survives JSON', () => {
    const error = roundTrip(new TypeError('cannot read x of undefined'));
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({
      message: 'ledger.get-balance failed in module ledger: TypeError: cannot read x of undefined',
      context: { module: 'ledger', messageType: 'ledger.get-balance', requestId: 'req-1', remoteName: 'TypeError' },
    });
    class OddError extends ConflictError {}
    const odd = errorToWire(new OddError('big', { amount: 10n, nested: { when: new Date(0) } }));
    expect(odd.context).toEqual({ amount: '10', nested: { when: '1970-01-01T00:00:00.000Z' } });
  });
});

describe('errors across a remote call, from a damaged or foreign reply', () => {
  it('never lets a wire code reach an inherited property, nor a missing context break the caller: still a typed error', () => {
    for (const code of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const error = errorFromWire({ code, name: 'OddError', message: 'odd', context: {} }, request);
      expect(error).toBeInstanceOf(RemoteHandlerError);
      expect(error).toMatchObject({ context: { remoteCode: code, remoteName: 'OddError' } });
    }
    // A reply from a replica of another version, without context: the class it names, still.
    const foreign = JSON.parse('{"code":"VALIDATION_FAILED","name":"ValidationError","message":"amount: must be positive"}');
    const invalid = errorFromWire(foreign, request);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid).toMatchObject({ message: 'amount: must be positive', context: {} });
    const notFound = errorFromWire({ ...foreign, code: 'NOT_FOUND', context: null }, request);
    expect(notFound).toBeInstanceOf(NotFoundError);
  });
});
