import { BoundedQueue } from '@modulith/core';
import type { BalanceChangedPayload } from '@modulith/ledger/contracts';
import { SnapshotFence } from './snapshot-fence';

/** The part of a WebSocket a connection needs; `ws` sockets fit. */
export interface SocketLike {
  readonly bufferedAmount: number;
  readonly readyState: number;
  readonly isPaused: boolean;
  send(data: string, callback?: (error?: Error) => void): void;
  /** Stop and restart reading the client's frames. */
  pause(): void;
  resume(): void;
}

const OPEN = 1;

/** The frame a client receives for one balance change. */
export const changeFrame = (change: BalanceChangedPayload): string => JSON.stringify({ type: 'balance-changed', ...change });

/** An answer to a client command, due once the `after` change frames queued before it left the queue. */
interface Answer {
  data: string;
  bytes: number;
  after: number;
}

/**
 * One client: the accounts it follows, the join of their snapshots to the live changes
 * (`fence`, see SnapshotFence) and a bounded queue of messages for it. Messages leave the queue
 * only while the socket's own buffer is below the limit; a client that stops reading fills its
 * queue, and from then on the oldest waiting message is dropped and counted.
 *
 * Answers to its commands (`answer`) go out in the same order, after the changes queued before
 * them (so `subscribed` never overtakes older changes of the account), and are never dropped:
 * once `maxBufferedBytes` of answers wait, the socket is no longer read until they are written,
 * so a client that sends commands but never reads makes its own commands wait, not our memory.
 */
export class SubscriberConnection {
  readonly accounts = new Set<string>();
  readonly fence: SnapshotFence;
  private readonly queue: BoundedQueue<string>;
  private waitingForDrain = false;
  private readonly answers: Answer[] = [];
  private unwrittenAnswerBytes = 0;
  /** Change frames ever queued, and those of them that left the queue (written or dropped). */
  private offered = 0;
  private left = 0;

  /** `snapshotBufferSize`: live changes held while snapshots are read (see SnapshotFence). */
  constructor(
    private readonly socket: SocketLike,
    queueSize: number,
    private readonly maxBufferedBytes: number,
    private readonly onDrop: () => void,
    snapshotBufferSize = 1000,
  ) {
    this.queue = new BoundedQueue<string>(queueSize, 'drop-oldest', () => {
      this.left += 1;
      this.onDrop();
    });
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
    if (this.queue.offer(message)) this.offered += 1;
    this.pump();
  }

  /** Queues the answer to a client command behind the changes queued so far; never dropped (see the class). */
  answer(frame: string): void {
    if (this.closed) return;
    const bytes = Buffer.byteLength(frame);
    this.answers.push({ data: frame, bytes, after: this.offered });
    this.unwrittenAnswerBytes += bytes;
    if (this.unwrittenAnswerBytes >= this.maxBufferedBytes && !this.socket.isPaused) this.socket.pause();
    this.pump();
  }

  close(): void {
    this.queue.close();
    this.queue.take(this.queue.size);
    this.answers.length = 0;
  }

  private pump(): void {
    while (this.socket.readyState === OPEN) {
      const answer = this.answers[0];
      const answerDue = answer !== undefined && answer.after <= this.left;
      // An answer not due yet waits for queued changes, so the queue is not empty then.
      if (!answerDue && this.queue.size === 0) return;
      if (this.socket.bufferedAmount >= this.maxBufferedBytes) {
        // Resumed by the callback of a frame already sent once the socket has written it, or by
        // the next push or answer that finds room.
        this.waitingForDrain = true;
        return;
      }
      if (answerDue) {
        this.answers.shift();
        this.socket.send(answer.data, () => this.answerWritten(answer.bytes));
      } else {
        const [message] = this.queue.take(1);
        this.left += 1;
        this.socket.send(message, () => this.resume());
      }
    }
  }

  private answerWritten(bytes: number): void {
    this.unwrittenAnswerBytes -= bytes;
    if (this.unwrittenAnswerBytes < this.maxBufferedBytes && this.socket.isPaused) this.socket.resume();
    this.resume();
  }

  private resume(): void {
    if (!this.waitingForDrain) return;
    this.waitingForDrain = false;
    this.pump();
  }
}
