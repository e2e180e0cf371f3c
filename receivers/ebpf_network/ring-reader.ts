/**
 * Reads a BPF ring buffer map from user space without a native call per record: the ring is
 * mapped into memory (consumer page read-write, producer page and data read-only, the data
 * mapped twice back to back by the kernel so a record that wraps reads linearly) and records
 * are parsed in place through one DataView. Only mmap/munmap go through koffi.
 */
import koffi from 'koffi';
import type { BurstBuffer } from './burst-buffer';
import { libc, MAP_FAILED, MAP_SHARED, PROT_READ, PROT_WRITE, SC_PAGESIZE, errnoName, lastErrno, type Pointer } from './native/libc';

/** Set in a ring record's header while the kernel is still writing it. */
export const RECORD_BUSY_BIT = 0x80000000;
const BUSY_BIT = RECORD_BUSY_BIT;
/** The kernel's ring record header: length in the low bits, flags above, 8 bytes in all. */
export const RECORD_DISCARD_BIT = 0x40000000;
export const RECORD_LEN_MASK = 0x3fffffff;
export const RECORD_HEADER_SIZE = 8;
const DISCARD_BIT = RECORD_DISCARD_BIT;
const LEN_MASK = RECORD_LEN_MASK;
const HDR_SIZE = RECORD_HEADER_SIZE;

/**
 * The whole records the kernel has committed from `start` in `view`, read linearly, within
 * `pending` bytes written and at most `room` bytes: stops at a record still being written and
 * before one that would not fit. `records` leaves out discarded ones.
 */
export function committedRecords(view: DataView, start: number, pending: number, room: number): { bytes: number; records: number } {
  const limit = Math.min(pending, room);
  let bytes = 0;
  let records = 0;
  while (bytes < pending) {
    const header = view.getUint32(start + bytes, true);
    if ((header & BUSY_BIT) !== 0) break;
    const step = ((header & LEN_MASK) + HDR_SIZE + 7) & ~7;
    if (bytes + step > limit) break;
    if ((header & DISCARD_BIT) === 0) records++;
    bytes += step;
  }
  return { bytes, records };
}

/** Receives records in place; `offset` is where the record body starts in `view`/`bytes`. */
export interface RecordSink {
  record(view: DataView, bytes: Uint8Array, offset: number, length: number): void;
}

export class RingReader {
  private consumerPage: Pointer | null;
  private dataMapping: Pointer | null;
  private readonly pageSize: number;
  private readonly dataMappingLength: number;
  private consumerPos: BigUint64Array;
  private producerPos: BigUint64Array;
  private view: DataView;
  private bytes: Uint8Array;
  private position: number;
  readonly size: number;

  constructor(fd: number, size: number) {
    if (size <= 0 || size > 2 ** 30 || (size & (size - 1)) !== 0) {
      throw new Error(`ring size ${size} is not a power of two up to 1 GiB`);
    }
    const c = libc();
    this.size = size;
    this.pageSize = c.sysconf(SC_PAGESIZE);
    const consumer = c.mmap(null, this.pageSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (consumer === MAP_FAILED) throw new Error(`mapping the ring buffer consumer page: ${errnoName(lastErrno())}`);
    this.dataMappingLength = this.pageSize + 2 * size;
    const data = c.mmap(null, this.dataMappingLength, PROT_READ, MAP_SHARED, fd, this.pageSize);
    if (data === MAP_FAILED) {
      const errno = lastErrno();
      c.munmap(consumer, this.pageSize);
      throw new Error(`mapping the ring buffer data (${this.dataMappingLength} bytes): ${errnoName(errno)}`);
    }
    this.consumerPage = consumer;
    this.dataMapping = data;
    this.consumerPos = new BigUint64Array(koffi.view(consumer, 8));
    const producer = koffi.view(data, this.dataMappingLength);
    this.producerPos = new BigUint64Array(producer, 0, 1);
    this.view = new DataView(producer, this.pageSize, 2 * size);
    this.bytes = new Uint8Array(producer, this.pageSize, 2 * size);
    this.position = Number(Atomics.load(this.consumerPos, 0));
  }

  /** Bytes written by the kernel and not yet consumed. */
  pending(): number {
    if (!this.dataMapping) return 0;
    return Number(Atomics.load(this.producerPos, 0)) - this.position;
  }

  /**
   * Hands up to `max` committed records to `sink`, then publishes the new consumer position
   * once (the kernel reuses the space only after that store). Stops early at a record the
   * kernel is still writing. Returns the number of records handed over.
   */
  drain(sink: RecordSink, max: number, shouldStop?: () => boolean): number {
    if (!this.dataMapping) return 0;
    const producer = Number(Atomics.load(this.producerPos, 0));
    const view = this.view;
    const bytes = this.bytes;
    const mask = this.size - 1;
    let pos = this.position;
    let n = 0;
    while (pos < producer && n < max) {
      // `&` takes the position modulo 2^32 first, which is exact because size divides 2^32.
      const off = pos & mask;
      const header = view.getUint32(off, true);
      if ((header & BUSY_BIT) !== 0) break;
      const len = header & LEN_MASK;
      if ((header & DISCARD_BIT) === 0) {
        sink.record(view, bytes, off + HDR_SIZE, len);
        n++;
      }
      pos += (len + HDR_SIZE + 7) & ~7;
      if (shouldStop !== undefined && shouldStop()) break;
    }
    if (pos !== this.position) {
      this.position = pos;
      Atomics.store(this.consumerPos, 0, BigInt(pos));
    }
    return n;
  }

  /**
   * Moves the committed records (up to `into.room()` bytes) into `into` undecoded, as one copy,
   * and frees their space in the ring. Returns the number of records moved.
   */
  spill(into: BurstBuffer): number {
    if (!this.dataMapping) return 0;
    const producer = Number(Atomics.load(this.producerPos, 0));
    const start = this.position & (this.size - 1);
    // The data is mapped twice back to back: up to `size` bytes from any offset read linearly.
    const { bytes, records } = committedRecords(this.view, start, producer - this.position, Math.min(into.room(), this.size));
    if (bytes === 0) return 0;
    into.push(this.bytes, start, bytes, records);
    this.position += bytes;
    Atomics.store(this.consumerPos, 0, BigInt(this.position));
    return records;
  }

  /** Idempotent. The views must not be used afterwards (the memory is gone). */
  close(): void {
    const c = libc();
    if (this.dataMapping) {
      c.munmap(this.dataMapping, this.dataMappingLength);
      this.dataMapping = null;
    }
    if (this.consumerPage) {
      c.munmap(this.consumerPage, this.pageSize);
      this.consumerPage = null;
    }
    const empty = new ArrayBuffer(8);
    this.consumerPos = new BigUint64Array(empty);
    this.producerPos = new BigUint64Array(empty);
    this.view = new DataView(empty);
    this.bytes = new Uint8Array(empty);
  }
}
