import type { BalanceReader, EntryProbe } from './pipeline-probes';

/**
 * What is wrong with what a WebSocket reader got for `account`, against the ledger's entries
 * (oldest first): per currency, the snapshot must stand at an entry of that balance (its balance
 * that entry's `balanceAfter`), and the changes after it must be exactly the entries after that
 * one, in order, each with that entry's balance — no gap, no overlap. Empty when all is right.
 */
export function streamProblems(reader: BalanceReader, account: string, entries: readonly EntryProbe[]): string[] {
  const problems: string[] = [];
  const currencies = new Set([...entries.map((entry) => entry.currency), ...reader.balances.filter((b) => b.account === account).map((b) => b.currency)]);
  for (const currency of currencies) {
    const key = `${account}/${currency}`;
    const ofKey = entries.filter((entry) => entry.currency === currency);
    const snapshot = reader.balances.find((balance) => balance.account === account && balance.currency === currency);
    const start = snapshot ? ofKey.findIndex((entry) => entry.seq === snapshot.entrySeq) : -1;
    if (snapshot && start < 0) problems.push(`${key}: the snapshot stands at entry ${snapshot.entrySeq}, which is not one of this balance's`);
    else if (snapshot && ofKey[start].balanceAfter !== snapshot.balance) {
      problems.push(`${key}: the snapshot shows ${snapshot.balance} at entry ${snapshot.entrySeq}, the ledger ${ofKey[start].balanceAfter}`);
    }
    const expected = ofKey.slice(start + 1);
    const received = reader.messages.filter((message) => message.account === account && message.currency === currency);
    const receivedSeqs = received.map((message) => message.entrySeq);
    const expectedSeqs = expected.map((entry) => entry.seq);
    const at = expectedSeqs.findIndex((seq, index) => receivedSeqs[index] !== seq);
    if (at >= 0 || receivedSeqs.length !== expectedSeqs.length) {
      const index = at >= 0 ? at : expectedSeqs.length;
      const got = receivedSeqs[index];
      const kind = got === undefined ? 'missing' : BigInt(got) <= BigInt(snapshot?.entrySeq ?? '0') || receivedSeqs.indexOf(got) < index ? 'overlap' : 'gap';
      problems.push(
        `${key} after the snapshot at ${snapshot?.entrySeq ?? 'none'}: ${kind} at change ${index}: expected entry ${expectedSeqs[index] ?? '(none)'}, got ${got ?? '(none)'} ` +
          `(${receivedSeqs.length} received, ${expectedSeqs.length} expected)`,
      );
      continue;
    }
    const wrong = received.find((message, index) => message.balance !== expected[index].balanceAfter);
    if (wrong) problems.push(`${key}: change ${wrong.entrySeq} shows balance ${wrong.balance}, the ledger ${expected[receivedSeqs.indexOf(wrong.entrySeq)].balanceAfter}`);
  }
  return problems;
}
