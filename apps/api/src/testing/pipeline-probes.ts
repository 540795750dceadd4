import { WebSocket } from 'ws';
import { waitForDrain } from '@modulith/testing';
import { ADMIN } from './app-processes';

export interface BalanceMessage {
  type: string;
  account: string;
  currency: string;
  balance: string;
  entrySeq: string;
}

/** A balance as the `subscribed` answer gives it: the changes after it have a higher entrySeq. */
export interface BalanceSnapshot {
  account: string;
  currency: string;
  balance: string;
  entrySeq: string;
}

export interface BalanceReader {
  socket: WebSocket;
  /** The current balances the `subscribed` answer carried. */
  balances: BalanceSnapshot[];
  /** The changes after them, as received. */
  messages: BalanceMessage[];
}

/** A WebSocket client of `/ws` following `accounts`; resolves once subscribed, rejects with the error answer. */
export function openBalanceReader(baseUrl: string, accounts: string[]): Promise<BalanceReader> {
  const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}/ws`);
  const messages: BalanceMessage[] = [];
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ action: 'subscribe', accounts })));
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'subscribed') resolve({ socket, balances: message.balances, messages });
      else if (message.type === 'balance-changed') messages.push(message);
      else if (message.type === 'error') reject(new Error(`subscribe refused: ${message.message}`));
    });
  });
}

export interface PipelineBacklog {
  /** Nothing pending anywhere (the app's `isDrained`). */
  drained: boolean;
  outboxPending: number;
  retriesPending: number;
  deadLetters: number;
  /** In process: relayed events some durable subscriber has not read from the event log yet. */
  logPending?: number;
  transportPending?: number | null;
}

export async function pipelineBacklog(baseUrl: string): Promise<PipelineBacklog> {
  const response = await fetch(`${baseUrl}/admin/pipeline`, { headers: ADMIN });
  if (!response.ok) throw new Error(`GET /admin/pipeline: HTTP ${response.status}`);
  return (await response.json()) as PipelineBacklog;
}

/**
 * Waits until the outbox, the event log, the retry table and (with Redis) every consumer group
 * are empty (the app's `drained`), three looks in a row, as seen by an instance that runs the relay.
 */
export async function waitForPipelineDrain(baseUrl: string, timeoutMs: number): Promise<void> {
  await waitForDrain(() => pipelineBacklog(baseUrl), { drained: (look) => look.drained, timeoutMs });
}

export interface EntryProbe {
  seq: string;
  currency: string;
  balanceAfter: string;
}

/** Every ledger entry of an account, oldest first: its sequence number, currency and the balance after it (from the ledger's HTTP API). */
export async function ledgerEntries(baseUrl: string, account: string): Promise<EntryProbe[]> {
  const entries: EntryProbe[] = [];
  let cursor: string | null = null;
  do {
    const response = await fetch(`${baseUrl}/accounts/${account}/entries?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    const page = (await response.json()) as { items: EntryProbe[]; nextCursor: string | null };
    entries.push(...page.items.map((item) => ({ seq: item.seq, currency: item.currency, balanceAfter: item.balanceAfter })));
    cursor = page.nextCursor;
  } while (cursor);
  return entries.reverse();
}

/**
 * Entry sequence numbers per currency, in the order given: one balance's changes each.
 * `BalanceChanged` is ordered per account and currency, so that is the order to compare.
 */
export function seqsByCurrency(items: readonly { currency: string; seq: string }[]): Record<string, string[]> {
  const byCurrency: Record<string, string[]> = {};
  for (const item of items) (byCurrency[item.currency] ??= []).push(item.seq);
  return byCurrency;
}
