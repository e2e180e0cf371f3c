/**
 * Wake-ups from the kernel ring, edge-triggered. The ring fd is readable whenever any data is
 * pending, so a level-triggered poll on it fires on every loop turn while records trickle in,
 * even though the kernel side only asks for a wake-up when wakeup_threshold_bytes are pending.
 * Registering the ring in an epoll set of our own with EPOLLET turns those explicit kernel
 * wake-ups into the only events; the event loop polls that epoll fd (readable while it holds
 * an event) through koffi.node.poll, and each callback clears it with a zero-timeout
 * epoll_wait.
 */
import koffi, { type node as koffiNode } from 'koffi';
import {
  EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_EVENT_SIZE, EPOLLET, EPOLLIN, errnoName, lastErrno, libc,
} from './native/libc';

const MAX_EVENTS = 4;

export class RingWakeup {
  private epfd: number;
  private handle: koffiNode.PollHandle | undefined;
  /** Wake-ups delivered so far (each one is a turn of the event loop, the receiver's fixed cost). */
  count = 0;
  private readonly events = new Uint8Array(EPOLL_EVENT_SIZE * MAX_EVENTS);

  constructor(ringFd: number, onWake: () => void) {
    const c = libc();
    this.epfd = c.epollCreate1(EPOLL_CLOEXEC);
    if (this.epfd < 0) throw new Error(`epoll_create1 for the ring buffer: ${errnoName(lastErrno())}`);
    const event = new Uint8Array(EPOLL_EVENT_SIZE);
    new DataView(event.buffer).setUint32(0, (EPOLLIN | EPOLLET) >>> 0, true);
    if (c.epollCtl(this.epfd, EPOLL_CTL_ADD, ringFd, event) < 0) {
      const errno = lastErrno();
      c.close(this.epfd);
      this.epfd = -1;
      throw new Error(`epoll_ctl(ADD) of the ring buffer fd: ${errnoName(errno)}`);
    }
    this.handle = koffi.node.poll(this.epfd, { readable: true }, () => {
      // Consume the edge so the epoll fd stops being readable until the next kernel wake-up.
      libc().epollWait(this.epfd, this.events, MAX_EVENTS, 0);
      this.count++;
      onWake();
    });
    // The collector keeps the process alive; a quiet ring must not.
    this.handle.unref();
  }

  /** Idempotent. */
  close(): void {
    this.handle?.close();
    this.handle = undefined;
    if (this.epfd >= 0) {
      libc().close(this.epfd);
      this.epfd = -1;
    }
  }
}
