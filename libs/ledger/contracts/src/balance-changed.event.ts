import { IntegrationEvent } from '@modulith/messaging';

export interface BalanceChangedPayload {
  account: string;
  currency: string;
  /** The balance after the change: a signed integer of any size (it may pass ±2^63), as a decimal string. */
  balance: string;
  /** The signed change: negative for a debit; one transfer's amount, so within ±(2^63-1). */
  delta: string;
  /** The transfer that caused the change. */
  transferId: string;
  /** The ledger entry's sequence number: increases in commit order for an account and currency. */
  entrySeq: string;
}

/**
 * An account's balance in one currency changed. Ordered by account and currency: every durable
 * subscriber sees one balance's changes in commit order (`entrySeq` ascending, none skipped).
 */
export class BalanceChanged extends IntegrationEvent<BalanceChangedPayload> {
  static readonly type = 'ledger.balance-changed';
  static readonly version = 1;

  /** `<account>/<currency>`: unambiguous, as an account id holds no `/` and a currency is three letters; at most 132 characters. */
  static orderingKey(payload: BalanceChangedPayload): string {
    return `${payload.account}/${payload.currency}`;
  }
}
