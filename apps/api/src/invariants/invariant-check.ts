import type { AnalyticsTotals } from '@modulith/analytics/contracts';
import type { IngestionTotals } from '@modulith/ingestion/contracts';
import type { LedgerTotals } from '@modulith/ledger/contracts';

/** The figures each module reports about itself, through its public queries. */
export interface ModuleTotals {
  ingestion: IngestionTotals;
  ledger: LedgerTotals;
  analytics: AnalyticsTotals;
}

export interface InvariantResult {
  name: string;
  ok: boolean;
  detail: string;
}

const key = (account: string, currency: string) => `${currency} ${account}`;

/**
 * The invariants of DESIGN.md, checked once the pipeline has drained. Pure: each module's
 * figures come in, named results come out.
 */
export function checkInvariants({ ingestion, ledger, analytics }: ModuleTotals): InvariantResult[] {
  const results: InvariantResult[] = [];
  const check = (name: string, ok: boolean, detail: string) => results.push({ name, ok, detail });

  check(
    'ledger applied every transfer exactly once',
    ledger.transfersApplied === ingestion.transfers && ledger.malformedTransfers === 0,
    `${ingestion.transfers} transfers ingested, ${ledger.transfersApplied} applied, ${ledger.malformedTransfers} without exactly one debit and one credit`,
  );

  const nonZero = ledger.sumByCurrency.filter((row) => BigInt(row.balance) !== 0n);
  check(
    'per currency the sum of all balances is zero',
    nonZero.length === 0,
    nonZero.length === 0
      ? `${ledger.sumByCurrency.length} currencies balance to zero`
      : nonZero.map((row) => `${row.currency} sums to ${row.balance}`).join(', '),
  );

  const expected = new Map(ingestion.netByAccount.map((row) => [key(row.account, row.currency), BigInt(row.net)]));
  const actual = new Map(ledger.balances.map((row) => [key(row.account, row.currency), BigInt(row.balance)]));
  const mismatches: string[] = [];
  for (const [balanceKey, net] of expected) {
    const balance = actual.get(balanceKey);
    if (balance !== net) mismatches.push(`${balanceKey}: ledger ${balance ?? 'missing'}, recomputed ${net}`);
  }
  for (const balanceKey of actual.keys()) if (!expected.has(balanceKey)) mismatches.push(`${balanceKey}: in the ledger but in no transfer`);
  check(
    'every balance equals credits minus debits recomputed from ingestion',
    mismatches.length === 0,
    mismatches.length === 0 ? `${expected.size} balances match` : `${mismatches.length} differ, e.g. ${mismatches.slice(0, 3).join('; ')}`,
  );

  const { statements } = ledger;
  check(
    'every running statement follows its balance line by line',
    statements.broken === 0,
    statements.broken === 0
      ? `${statements.statements} statements, ${statements.lines} lines: one per entry, each the previous plus its amount, the last at the balance`
      : `${statements.broken} of ${statements.statements} wrong, e.g. ${statements.problems.slice(0, 3).join('; ')}`,
  );

  const countsByCurrency = new Map(analytics.byCurrency.map((row) => [row.currency, row]));
  const analyticsDiffs = ingestion.byCurrency.filter((row) => {
    const counted = countsByCurrency.get(row.currency);
    return !counted || counted.count !== row.count || counted.volume !== row.volume;
  });
  check(
    'analytics counted every transfer exactly once',
    analytics.transfersCounted === ingestion.transfers && analyticsDiffs.length === 0 && analytics.byCurrency.length === ingestion.byCurrency.length,
    `${ingestion.transfers} transfers ingested, ${analytics.transfersCounted} counted` +
      (analyticsDiffs.length ? `; differs for ${analyticsDiffs.map((row) => row.currency).join(', ')}` : ''),
  );
  return results;
}
