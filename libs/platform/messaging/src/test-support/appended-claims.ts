// What an app's relay hands its log readers, claim by claim, for tests that look at it.
import type { INestApplicationContext } from '@nestjs/common';
import type { AppendedClaim } from '../log/event-log';
import { TRANSPORT, type Transport } from '../transport/transport';

/** Records into `claims` every claim the app's relay passes to its transport's `appended` (which still gets it). */
export function recordAppendedClaims(app: INestApplicationContext, claims: AppendedClaim[]): void {
  const transport = app.get<Transport>(TRANSPORT, { strict: false });
  const appended = transport.appended?.bind(transport);
  if (!appended) throw new Error('the in-process transport takes no appended claims');
  transport.appended = (claim) => {
    claims.push(claim);
    appended(claim);
  };
}
