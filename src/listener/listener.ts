import type { SocketRef } from '../proto/ipc';
import type { ListenerState } from '../proto/snapshot';
import type { Receiver } from './receiver';

/**
 * The acceptance policy over a receiver. Node cannot stop polling a listening socket without closing
 * it, so suspending closes this thread's dup, and resuming asks the master for a fresh one (`rearm`).
 */
export class Listener {
  state: ListenerState = 'paused';
  private awaitingDup = false;

  constructor(
    readonly receiver: Receiver,
    private readonly requestDup: (id: string) => void,
  ) {}

  get id(): string {
    return this.receiver.bind.key;
  }

  /** Takes a dup from the master: at start, or in answer to a rearm request. */
  adopt(target: SocketRef, ready?: () => void): void {
    this.awaitingDup = false;
    this.receiver.listen(target, ready);
    // The limit may have been reached again, or a stop begun, while the dup was on its way.
    if (this.state !== 'ready') this.receiver.close();
  }

  suspend(state: Exclude<ListenerState, 'ready'>): void {
    // A stop outranks a limit: a paused listener stays paused.
    if (this.state === 'paused') return;
    this.state = state;
    this.receiver.close();
  }

  resume(): void {
    if (this.state === 'ready' || this.state === 'paused') return;
    this.state = 'ready';
    if (!this.receiver.listening && !this.awaitingDup) {
      this.awaitingDup = true;
      this.requestDup(this.id);
    }
  }

  /** Lets a listener that was never started (initial state paused) accept its first dup. */
  open(target: SocketRef, ready: () => void): void {
    this.state = 'ready';
    this.adopt(target, ready);
  }
}
