/**
 * Records moved out of the kernel ring ahead of decoding, while decoding is behind.
 *
 * Decoding a record and running it through the pipeline costs ~2 µs once V8 has optimized the
 * code, and ten times that in the first second of a burst that meets cold code: at 170,000
 * records/s the 8 MiB ring (a quarter of a second of such traffic) filled and lost records in one
 * saturated start out of six. Copying records out of the ring costs a memcpy however cold the
 * code is, so a reader that falls behind copies what the kernel wrote into this buffer, frees
 * the ring, and decodes from here; the kernel never sees the ring full while the buffer has room.
 *
 * Records keep their 8-byte ring headers and are read with the same walk as the ring; the buffer
 * is a queue of such copies, always older than anything still in the ring, so order is kept by
 * decoding from here until it is empty. Memory is taken only while behind, up to `capacity`.
 */
import { walkRecords, type RecordSink } from './ring-reader';

interface Chunk {
  bytes: Uint8Array;
  view: DataView;
  /** Next record header in `bytes`. */
  pos: number;
}

export class BurstBuffer {
  private readonly chunks: Chunk[] = [];
  /** Bytes held (ring headers and padding included). */
  bytes = 0;
  /** Records that have gone through the buffer since start. */
  records = 0;

  constructor(readonly capacity: number) {}

  /** Bytes that can still be taken. */
  room(): number {
    return this.capacity - this.bytes;
  }

  /**
   * Takes `length` bytes of whole ring records (headers included) from `source` at `start`, as
   * one copy; `records` of them are not discarded.
   */
  push(source: Uint8Array, start: number, length: number, records: number): void {
    if (length <= 0) return;
    const bytes = new Uint8Array(length);
    bytes.set(source.subarray(start, start + length));
    this.chunks.push({ bytes, view: new DataView(bytes.buffer), pos: 0 });
    this.bytes += length;
    this.records += records;
  }

  /**
   * Hands up to `max` records to `sink`, oldest first, as RingReader.drain does; `shouldStop`
   * is asked after each record. Returns the number handed over.
   */
  drain(sink: RecordSink, max: number, shouldStop?: () => boolean): number {
    let n = 0;
    while (this.chunks.length > 0 && n < max) {
      const chunk = this.chunks[0];
      const left = chunk.bytes.length - chunk.pos;
      const walked = walkRecords(chunk.view, chunk.bytes, chunk.pos, left, max - n, sink, shouldStop);
      chunk.pos += walked.bytes;
      this.bytes -= walked.bytes;
      n += walked.records;
      if (walked.bytes === left) this.chunks.shift();
      // A copy holds only committed records, so a walk that ends inside one was told to stop.
      else if (n < max) break;
    }
    return n;
  }
}
