/**
 * Redis's clock as this process sees it. Call deadlines travel in Redis time (epoch ms) and are
 * turned back into this process's time on arrival, so a caller and a replica whose clocks
 * disagree still agree on a deadline: a replica whose clock runs ahead does not drop every call
 * as expired, one whose clock runs behind does not run calls its caller gave up on. The offset is
 * taken at every heartbeat from Redis's `TIME` (the presence script returns it).
 */
export class RedisClock {
  private offsetMs = 0;

  /** Records Redis's time `redisNowMs` (epoch ms), read by a command sent at local time `sentAt` and answered now. */
  observe(redisNowMs: number, sentAt: number): void {
    if (!Number.isFinite(redisNowMs)) return;
    const now = Date.now();
    const offsetMs = redisNowMs - Math.round((sentAt + now) / 2);
    // Within the reading's own uncertainty (half the round trip, plus Redis's whole ms) clocks
    // agree as far as anyone can tell: no offset, so a deadline arrives exactly as it was sent.
    this.offsetMs = Math.abs(offsetMs) <= (now - sentAt) / 2 + 1 ? 0 : offsetMs;
  }

  /** `localMs` (this process's epoch ms) in Redis time. */
  toRedis(localMs: number): number {
    return localMs + this.offsetMs;
  }

  /** `redisMs` (Redis's epoch ms) in this process's time. */
  fromRedis(redisMs: number): number {
    return redisMs - this.offsetMs;
  }
}
