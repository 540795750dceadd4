/** Deterministic transfers, the shape `POST /transfers/batch` takes, made batch by batch. */
export interface Transfer {
  id: string;
  from: string;
  to: string;
  amount: string;
  currency: string;
  occurredAt: string;
}

const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY'];
const START = Date.UTC(2026, 0, 1);
const ACCOUNTS = 1000;

/** Transfer `index` of the run named `prefix`: ids are `${prefix}-${index}`, accounts acc-0..999. */
export function transferAt(prefix: string, index: number): Transfer {
  // A cheap integer hash of the index, so runs are repeatable without a shared generator.
  let h = Math.imul(index ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  const from = h % ACCOUNTS;
  const to = (from + 1 + ((h >>> 10) % (ACCOUNTS - 1))) % ACCOUNTS;
  return {
    id: `${prefix}-${index}`,
    from: `acc-${from}`,
    to: `acc-${to}`,
    amount: String(1 + ((h >>> 3) % 1_000_000)),
    currency: CURRENCIES[(h >>> 20) % CURRENCIES.length],
    occurredAt: new Date(START + ((h >>> 2) % (72 * 3600)) * 1000).toISOString(),
  };
}

export function transfers(prefix: string, from: number, count: number): Transfer[] {
  return Array.from({ length: count }, (_, i) => transferAt(prefix, from + i));
}
