import type { OutboxRetention } from './outbox-retention';

const USAGE = `usage:
  outbox retained
  outbox redrive --since <ISO time> [--until <ISO time>]`;

/**
 * The `outbox` CLI command, for a script to call with its arguments (after the command name)
 * and an `OutboxRetention` from the app context or `new OutboxRetention({ dataSource })`.
 * Returns the exit code: 0 done, 1 failed, 2 bad usage.
 */
export async function runOutboxCommand(
  argv: readonly string[],
  retention: OutboxRetention,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const [command, ...rest] = argv;
  const values: Record<string, string> = {};
  for (let index = 0; index + 1 < rest.length; index += 2) {
    if (!rest[index].startsWith('--')) break;
    values[rest[index].slice(2)] = rest[index + 1];
  }
  try {
    if (command === 'retained' && rest.length === 0) {
      const kept = await retention.retained();
      print(`${kept.rows} delivered event(s) kept, delivered from ${kept.oldestDeliveredAt ?? '-'} to ${kept.newestDeliveredAt ?? '-'}`);
      return 0;
    }
    if (command === 'redrive' && values['since']) {
      const since = new Date(values['since']);
      const until = values['until'] ? new Date(values['until']) : undefined;
      const count = await retention.redriveFrom(since, until);
      print(`${count} event(s) back in the outbox for the relays to publish again`);
      return 0;
    }
  } catch (error) {
    print(`error: ${(error as Error).message}`);
    return 1;
  }
  print(USAGE);
  return 2;
}
