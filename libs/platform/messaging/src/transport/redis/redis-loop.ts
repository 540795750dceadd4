import { Wakeup } from '../../relay/wakeup';
import { retryDelayMs } from '../../retries/backoff';

const BACKOFF = { baseDelayMs: 100, maxDelayMs: 2000 };

/**
 * A loop of Redis work on a connection of its own that runs until stopped and never ends on a
 * failure: each failed `step` (Redis away, paused, a reset connection) goes to `failed` (to be
 * logged when `report`: the first and every 50th of a streak) and is retried after a backoff of
 * 100 ms doubling up to 2 s.
 */
export abstract class RedisLoop {
  protected running = false;
  protected readonly stopping = new Wakeup();
  private loop?: Promise<void>;

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** One round of work; a rejection is a failure to retry. */
  protected abstract step(): Promise<void>;

  /** Takes note of a failure (`delayMs`: until the next try); logs it when `report`. */
  protected abstract failed(error: unknown, delayMs: number, report: boolean): void;

  /**
   * Runs once before the first step: a loop whose connection is still connecting waits for it
   * here (bounded), so a normal start-up does not report "Stream isn't writeable" failures.
   */
  protected async warmUp(): Promise<void> {
    // nothing to wait for by default
  }

  /** Called once the loop works again after failures. */
  protected recovered(): void {
    // nothing to say by default
  }

  /** Ends the loop: `abandon` unblocks a call in progress (drops its connection); resolves when the loop has returned. */
  protected async end(abandon: () => void): Promise<boolean> {
    if (!this.running) return false;
    this.running = false;
    this.stopping.signal();
    abandon();
    await this.loop;
    return true;
  }

  private async run(): Promise<void> {
    await this.warmUp();
    let failures = 0;
    while (this.running) {
      try {
        await this.step();
        if (failures > 0) this.recovered();
        failures = 0;
      } catch (error) {
        if (!this.running) return;
        failures += 1;
        const delayMs = retryDelayMs(failures, BACKOFF);
        this.failed(error, delayMs, failures === 1 || failures % 50 === 0);
        await this.stopping.sleep(delayMs);
      }
    }
  }
}
