import { topologyProblems, type InstanceView } from './topology-rules';

const instance = (id: string, overrides: Partial<InstanceView> = {}): InstanceView => ({
  id,
  host: 'h',
  pid: 1,
  transport: 'inprocess',
  relayEnabled: true,
  modules: [],
  durable: [],
  bestEffort: [],
  ...overrides,
});
const all = { modules: ['ledger', 'analytics'], durable: ['ledger.apply', 'analytics.count'], bestEffort: ['notifications.push'] };
const consumers = { modules: ['ledger', 'analytics'], durable: ['ledger.apply', 'analytics.count'] };
const rules = (self: InstanceView, others: InstanceView[], known: string[] = []): string[] =>
  topologyProblems(self, others, known).map((problem) => problem.rule);

describe('topologyProblems', () => {
  it('accepts one process hosting everything, and a split over Redis', () => {
    expect(rules(instance('a', all), [])).toEqual([]);
    const redis = { transport: 'redis' };
    expect(rules(instance('a', { ...redis }), [instance('b', { ...redis, ...consumers }), instance('c', { ...redis, ...all, relayEnabled: false })])).toEqual([]);
  });

  it('refuses a relaying process that lacks durable subscribers running elsewhere or registered before', () => {
    expect(rules(instance('ingestion'), [instance('b', consumers)])).toEqual(['relay-lacks-durable']);
    expect(rules(instance('ingestion'), [], ['ledger'])).toEqual(['relay-lacks-durable']);
    expect(rules(instance('ingestion', { relayEnabled: false }), [instance('b', consumers)])).toEqual([]);
    expect(rules(instance('b', consumers), [instance('ingestion')], ['ledger'])).toEqual([]);
  });

  it('refuses a process whose durable subscribers a live relay lacks, and mixed transports', () => {
    expect(rules(instance('b', { ...consumers, relayEnabled: false }), [instance('ingestion')])).toEqual(['durable-not-relayed']);
    expect(rules(instance('a', { transport: 'redis' }), [instance('b')])).toEqual(['transport']);
  });

  it('refuses best-effort subscribers with two relays or outside the relaying process', () => {
    expect(rules(instance('b', all), [instance('a', all)])).toEqual(['best-effort-split']);
    expect(rules(instance('b', { ...all, relayEnabled: false }), [instance('a', all)])).toEqual(['best-effort-split']);
    expect(rules(instance('b', { ...all, relayEnabled: false }), [])).toEqual([]);
    expect(rules(instance('b', { ...consumers, relayEnabled: true }), [instance('a', { ...all, relayEnabled: true })])).toEqual(['best-effort-split']);
    expect(rules(instance('b', { ...consumers, relayEnabled: false }), [instance('a', all)])).toEqual([]);
  });
});
