import { PublicQuery, publicCallOf, type PublicCall } from '@modulith/core';
import { assertPlainResult, CallPayloadError, messageOf, payloadOf } from './call-payload';

@PublicQuery({ module: 'ledger', type: 'spec.find-entries' })
class FindEntriesQuery {
  constructor(
    readonly account: string,
    readonly limit: number,
    readonly cursor?: string,
  ) {}

  describe(): string {
    return `${this.account}/${this.limit}`;
  }
}

const call = publicCallOf(FindEntriesQuery) as PublicCall;

describe('payloads and results of public calls', () => {
  it('sends the message’s own fields, drops absent optionals, and rebuilds an instance of the class', () => {
    const payload = payloadOf(new FindEntriesQuery('acc-1', 50), call);
    expect(payload).toEqual({ account: 'acc-1', limit: 50 });
    const rebuilt = messageOf(call, JSON.parse(JSON.stringify(payload)));
    expect(rebuilt).toBeInstanceOf(FindEntriesQuery);
    expect((rebuilt as FindEntriesQuery).describe()).toBe('acc-1/50');
  });

  it('refuses what JSON would change, naming the field', () => {
    expect(() => payloadOf(new FindEntriesQuery('acc-1', 1.5), call)).toThrow(CallPayloadError);
    expect(() => payloadOf(new FindEntriesQuery('acc-1', 1.5), call)).toThrow('spec.find-entries.payload.limit');
    expect(() => assertPlainResult({ at: new Date() }, call)).toThrow('spec.find-entries.result.at: must be plain JSON data, got an instance of Date');
    expect(() => assertPlainResult({ balance: 10n }, call)).toThrow(CallPayloadError);
    expect(() => assertPlainResult(undefined, call)).not.toThrow();
    expect(() => assertPlainResult({ balance: '10', items: [null, true] }, call)).not.toThrow();
  });
});
