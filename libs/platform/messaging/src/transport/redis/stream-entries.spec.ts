import { decodeEntry, encodeEnvelope, entriesOfReply, ENVELOPE_FIELD, record, streamKey, streamPattern } from './stream-entries';

const envelope = {
  id: '01a20000-0000-7000-8000-000000000001',
  type: 'ledger.balance-changed',
  version: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  source: 'ledger',
  correlationId: 'c-1',
  causationId: null,
  payload: { account: 'acc-1', balance: '10' },
};

describe('stream entries', () => {
  it('names one stream per event type under the prefix', () => {
    expect(streamKey('modulith', 'ledger.balance-changed')).toBe('modulith:events:ledger.balance-changed');
    expect(streamPattern('modulith')).toBe('modulith:events:*');
  });

  it('round-trips an envelope through one field', () => {
    expect(decodeEntry(['1-0', [ENVELOPE_FIELD, encodeEnvelope(envelope)]])).toEqual({ id: '1-0', envelope });
  });

  it('treats trimmed, foreign and malformed entries as having no envelope', () => {
    expect(decodeEntry(['1-0', null])).toEqual({ id: '1-0' });
    expect(decodeEntry(['2-0', ['other', 'x']])).toEqual({ id: '2-0' });
    expect(decodeEntry(['3-0', [ENVELOPE_FIELD, '{not json']])).toEqual({ id: '3-0' });
    expect(decodeEntry(['4-0', [ENVELOPE_FIELD, '{"id":1}']])).toEqual({ id: '4-0' });
  });

  it('reads XREAD replies and flat field lists', () => {
    expect(entriesOfReply(null)).toEqual([]);
    expect(entriesOfReply([['k', [['1-0', ['a', 'b']]]]])).toEqual([['1-0', ['a', 'b']]]);
    expect(record(['name', 'ledger', 'pending', 3])).toEqual({ name: 'ledger', pending: 3 });
  });
});
