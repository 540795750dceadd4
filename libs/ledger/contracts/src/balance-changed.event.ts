import { IntegrationEvent } from '@modulith/messaging/events';
import { Type, type Static } from '@sinclair/typebox';

const ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';
const Id = Type.String({ pattern: ID_PATTERN, description: '1-128 of letters, digits and -_.:' });

/** The wire shape of `BalanceChanged` v1 (its JSON Schema is committed under contracts/). */
export const BalanceChangedSchema = Type.Object({
  account: Id,
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' }),
  balance: Type.String({
    pattern: '^(0|-?[1-9][0-9]*)$',
    description: 'the balance after the change: a signed integer of any size (it may pass ±2^63), as a decimal string',
  }),
  delta: Type.String({ pattern: '^-?[1-9][0-9]{0,18}$', description: "the signed change, negative for a debit: one transfer's amount" }),
  transferId: Type.String({ pattern: ID_PATTERN, description: 'the transfer that caused the change' }),
  entrySeq: Type.String({
    pattern: '^[1-9][0-9]*$',
    description: "the ledger entry's sequence number: increases in commit order for an account and currency",
  }),
});

export type BalanceChangedPayload = Static<typeof BalanceChangedSchema>;

/**
 * An account's balance in one currency changed. Ordered by account and currency: every durable
 * subscriber sees one balance's changes in commit order (`entrySeq` ascending, none skipped).
 */
export class BalanceChanged extends IntegrationEvent<BalanceChangedPayload> {
  static readonly type = 'ledger.balance-changed';
  static readonly version = 1;
  static readonly schema = BalanceChangedSchema;

  /** `<account>/<currency>`: unambiguous, as an account id holds no `/` and a currency is three letters; at most 132 characters. */
  static orderingKey(payload: BalanceChangedPayload): string {
    return `${payload.account}/${payload.currency}`;
  }
}
