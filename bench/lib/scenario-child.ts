/**
 * One scenario in its own process: `node -r bench/lib/register.cjs bench/lib/scenario-child.ts <name>`.
 * Sends `{ kind: 'result', result }` to the runner, or prints it when run by hand.
 */
import * as path from 'node:path';
import type { ScenarioResult } from './scenario';

async function main(): Promise<void> {
  const name = process.argv[2];
  const scenario = require(path.join(__dirname, '..', 'scenarios', `${name}.ts`)) as { run: () => Promise<ScenarioResult> };
  const result = await scenario.run();
  if (process.send) await new Promise<void>((resolve) => process.send!({ kind: 'result', result }, () => resolve()));
  else console.log(JSON.stringify(result, null, 2));
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    const message = error.stack ?? String(error);
    if (process.send) process.send({ kind: 'error', message }, () => process.exit(1));
    else {
      console.error(message);
      process.exit(1);
    }
  },
);
