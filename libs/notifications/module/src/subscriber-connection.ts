import type { BalanceChangedPayload } from '@modulith/ledger/contracts';
import { BoundedQueue } from '@modulith/messaging';
import { SnapshotFence } from './snapshot-fence';

/** The part of a WebSocket a connection needs; `ws` sockets fit. */
export interface SocketLike {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string, callback?: (error?: Error) => void): void;
}

const OPEN = 1;

/** The frame a client receives for one balance change. */
export const changeFrame = (change: BalanceChangedPayload): string => JSON.stringify({ type: 'balance-changed', ...change });

/**
 * One client: the accounts it follows, the join of their snapshots to the live changes
 * (`fence`, see SnapshotFence) and a bounded queue of messages for it. Messages leave the queue
 * only while the socket's own buffer is below the limit; a client that stops reading fills its
 * queue, and from then on the oldest waiting message is dropped and counted.
 */
export class SubscriberConnection {
  readonly accounts = new Set<string>();
  readonly fence: SnapshotFence;
  private readonly queue: BoundedQueue<string>;
  private waitingForDrain = false;

  /** `snapshotBufferSize`: live changes held while snapshots are read (see SnapshotFence). */
  constructor(
    private readonly socket: SocketLike,
    queueSize: number,
    private readonly maxBufferedBytes: number,
    private readonly onDrop: () => void,
    snapshotBufferSize = 1000,
  ) {
    this.queue = new BoundedQueue<string>(queueSize, 'drop-oldest', () => this.onDrop());
    this.fence = new SnapshotFence(snapshotBufferSize);
  }

  get closed(): boolean {
    return this.queue.closed;
  }

  /** A live change of a followed account: queued now, held until its snapshot is sent, or skipped if the client has it; true when queued. */
  offer(change: BalanceChangedPayload): boolean {
    if (this.fence.admit(change) !== 'send') return false;
    this.push(changeFrame(change));
    return true;
  }

  get queued(): number {
    return this.queue.size;
  }

  get dropped(): number {
    return this.queue.dropped;
  }

  /** Queues a message and writes what the socket can take now; never waits. */
  push(message: string): void {
    this.queue.offer(message);
    this.pump();
  }

  close(): void {
    this.queue.close();
    this.queue.take(this.queue.size);
  }

  private pump(): void {
    while (this.queue.size > 0 && this.socket.readyState === OPEN) {
      if (this.socket.bufferedAmount >= this.maxBufferedBytes) {
        // Resumed by the callback of a frame already sent once the socket has written it, or by
        // the next push that finds room.
        this.waitingForDrain = true;
        return;
      }
      const [message] = this.queue.take(1);
      this.socket.send(message, () => this.resume());
    }
  }

  private resume(): void {
    if (!this.waitingForDrain) return;
    this.waitingForDrain = false;
    this.pump();
  }
}
