/**
 * One pass of the kernel's live-connection iterator (dump_live_tcp) over one iterator fd per
 * network namespace, read in chunks: the kernel
 * runs the iterator for as many sockets as fit in each read(), so a pass over tens of thousands
 * of connections can be spread over several event-loop turns instead of holding the loop for
 * the whole walk (~1.6 us per connection). Records have the fixed ne_tcp_close size; a read may
 * end inside one, which is carried over to the next.
 */
import { STRUCTS } from './layout';
import { errnoName, lastErrno, libc } from './native/libc';

const EINTR = 4;
export const LIVE_RECORD_SIZE = STRUCTS.ne_tcp_close.size;
/** ~450 records per turn: ~0.7 ms of kernel and decoding work. */
const DEFAULT_CHUNK_BYTES = 64 * 1024;

export class LiveTcpScan {
  private fd: number;
  private readonly queued: number[];
  private readonly buffer: Uint8Array;
  /** Bytes at [consumed, filled) not yet handed out: the start of a record cut by a read. */
  private consumed = 0;
  private filled = 0;

  /** Takes ownership of `fds` (from bpf_iter_create), read in turn; close() or the end of the pass closes them. */
  constructor(fds: readonly number[], private readonly chunkBytes = DEFAULT_CHUNK_BYTES) {
    this.queued = fds.slice(1);
    this.fd = fds.length > 0 ? fds[0] : -1;
    this.buffer = new Uint8Array(chunkBytes + LIVE_RECORD_SIZE);
  }

  /**
   * The next whole records, back to back (a view valid until the next call), or null once the
   * pass is over and the fd is closed. Throws on a read error (the fd is closed then too).
   */
  next(): Uint8Array | null {
    if (this.fd < 0) return null;
    const carried = this.filled - this.consumed;
    if (carried > 0) this.buffer.copyWithin(0, this.consumed, this.filled);
    this.consumed = 0;
    this.filled = carried;
    for (;;) {
      const n = libc().read(this.fd, this.buffer, this.filled, this.chunkBytes);
      if (n < 0) {
        const errno = lastErrno();
        if (errno === EINTR) continue;
        this.close();
        throw new Error(`reading the live TCP connection scan: ${errnoName(errno)}`);
      }
      if (n === 0) {
        // A cut record at the end of a namespace's walk would be a kernel bug; it is dropped.
        libc().close(this.fd);
        this.filled = 0;
        this.fd = this.queued.shift() ?? -1;
        if (this.fd < 0) return null;
        continue;
      }
      this.filled += n;
      const whole = this.filled - (this.filled % LIVE_RECORD_SIZE);
      if (whole > 0) {
        this.consumed = whole;
        return this.buffer.subarray(0, whole);
      }
    }
  }

  /** Idempotent. */
  close(): void {
    for (const fd of [this.fd, ...this.queued]) if (fd >= 0) libc().close(fd);
    this.fd = -1;
    this.queued.length = 0;
  }
}
