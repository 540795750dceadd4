import { ValidationError } from '@modulith/core';
import { fieldPath, readArray, readObject, readString } from '@modulith/http';
import { TRANSFER_LIMITS } from '@modulith/ingestion/contracts';

/** What a client may send: follow or stop following accounts. */
export interface ClientCommand {
  action: 'subscribe' | 'unsubscribe';
  accounts: string[];
}

const MAX_MESSAGE_BYTES = 64 * 1024;

/** Parses one client frame; errors name the field, like the HTTP API's. */
export function parseClientMessage(raw: string, maxAccounts: number): ClientCommand {
  if (raw.length > MAX_MESSAGE_BYTES) throw new ValidationError('message', `must be at most ${MAX_MESSAGE_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ValidationError('message', 'malformed JSON');
  }
  const object = readObject(value, '', ['action', 'accounts']);
  const action = readString(object['action'], 'action', /^(subscribe|unsubscribe)$/, 'must be "subscribe" or "unsubscribe"');
  const accounts = readArray(object['accounts'], 'accounts');
  if (accounts.length === 0 || accounts.length > maxAccounts) {
    throw new ValidationError('accounts', `must hold 1 to ${maxAccounts} account ids`);
  }
  return {
    action: action as ClientCommand['action'],
    accounts: accounts.map((account, index) =>
      readString(account, fieldPath('accounts', index), TRANSFER_LIMITS.idPattern, TRANSFER_LIMITS.idRule),
    ),
  };
}
