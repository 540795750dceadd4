/** Deterministic random transfers for end-to-end tests and their HTTP ingestion. */
export interface TestTransfer {
  id: string;
  from: string;
  to: string;
  amount: string;
  currency: string;
  occurredAt: string;
}

export function makeTransfers(count: number, accounts: number, prefix: string, seed = 1): TestTransfer[] {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const currencies = ['EUR', 'USD', 'GBP', 'JPY'];
  const start = Date.UTC(2026, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const from = Math.floor(random() * accounts);
    const to = (from + 1 + Math.floor(random() * (accounts - 1))) % accounts;
    return {
      id: `${prefix}-${i}`,
      from: `acc-${from}`,
      to: `acc-${to}`,
      amount: String(1 + Math.floor(random() * 1_000_000)),
      currency: currencies[Math.floor(random() * currencies.length)],
      occurredAt: new Date(start + Math.floor(random() * 72 * 3600 * 1000)).toISOString(),
    };
  });
}

/** Posts transfers in batches, `concurrency` requests at a time; fails on any non-201. */
export async function ingestOverHttp(baseUrl: string, transfers: TestTransfer[], batchSize = 5000, concurrency = 4): Promise<number> {
  let next = 0;
  let accepted = 0;
  const worker = async () => {
    while (next < transfers.length) {
      const batch = transfers.slice(next, (next += batchSize));
      const response = await fetch(`${baseUrl}/transfers/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ transfers: batch }),
      });
      if (response.status !== 201) throw new Error(`batch ingest failed: HTTP ${response.status} ${await response.text()}`);
      accepted += ((await response.json()) as { accepted: number }).accepted;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return accepted;
}
