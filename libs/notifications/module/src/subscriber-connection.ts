import { BoundedQueue } from '@modulith/messaging';

/** The part of a WebSocket a connection needs; `ws` sockets fit. */
export interface SocketLike {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string, callback?: (error?: Error) => void): void;
}

const OPEN = 1;

/**
 * One client: the accounts it follows and a bounded queue of messages for it. Messages leave
 * the queue only while the socket's own buffer is below the limit; a client that stops
 * reading fills its queue, and from then on the oldest waiting message is dropped and counted.
 */
export class SubscriberConnection {
  readonly accounts = new Set<string>();
  private readonly queue: BoundedQueue<string>;
  private waitingForDrain = false;

  constructor(
    private readonly socket: SocketLike,
    queueSize: number,
    private readonly maxBufferedBytes: number,
    private readonly onDrop: () => void,
  ) {
    this.queue = new BoundedQueue<string>(queueSize, 'drop-oldest', () => this.onDrop());
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
