import type { DeadLetters } from './dead-letters';

const USAGE = `usage:
  dead-letters list [--subscriber <name>] [--limit <n>] [--json]
  dead-letters replay <id>
  dead-letters replay-all <subscriber>`;

/**
 * The `dead-letters` CLI command, for a script to call with its arguments (after the command
 * name) and a `DeadLetters` from the app context or `new DeadLetters({ dataSource })`.
 * Returns the exit code: 0 done, 1 failed, 2 bad usage.
 */
export async function runDeadLetterCommand(
  argv: readonly string[],
  deadLetters: DeadLetters,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const [command, ...rest] = argv;
  const flags = parseFlags(rest);
  try {
    switch (command) {
      case 'list': {
        const items = await deadLetters.list({
          subscriber: flags.values.subscriber,
          limit: flags.values.limit === undefined ? undefined : Number(flags.values.limit),
        });
        if (flags.switches.has('json')) {
          items.forEach((item) => print(JSON.stringify(item)));
        } else {
          print(['id', 'failed at', 'subscriber', 'event type', 'event id', 'attempts', 'error'].join('\t'));
          items.forEach((item) =>
            print([item.id, item.failedAt, item.subscriber, item.eventType, item.eventId, item.attempts, item.error.split('\n')[0]].join('\t')),
          );
        }
        return 0;
      }
      case 'replay': {
        if (flags.positional.length !== 1) break;
        const replayed = await deadLetters.replay(flags.positional[0]);
        print(`replaying event ${replayed.eventId} for ${replayed.subscriber}`);
        return 0;
      }
      case 'replay-all': {
        if (flags.positional.length !== 1) break;
        const count = await deadLetters.replayAll(flags.positional[0]);
        print(`replaying ${count} dead letter(s) for ${flags.positional[0]}`);
        return 0;
      }
    }
  } catch (error) {
    print(`error: ${(error as Error).message}`);
    return 1;
  }
  print(USAGE);
  return 2;
}

function parseFlags(args: readonly string[]): { values: Record<string, string>; switches: Set<string>; positional: string[] } {
  const values: Record<string, string> = {};
  const switches = new Set<string>();
  const positional: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index];
    if (arg === '--json') switches.add('json');
    else if (arg.startsWith('--') && index + 1 < args.length) values[arg.slice(2)] = args[++index];
    else positional.push(arg);
  }
  return { values, switches, positional };
}
