/**
 * Reads a BPF ring buffer map from user space without a native call per record: the ring is
 * mapped into memory (consumer page read-write, producer page and data read-only, the data
 * mapped twice back to back by the kernel so a record that wraps reads linearly) and records
 * are parsed in place through one DataView. Only mmap/munmap go through koffi.
 */
import koffi from 'koffi';
import type { BurstBuffer } from './burst-buffer';
import { libc, MAP_FAILED, MAP_SHARED, PROT_READ, PROT_WRITE, SC_PAGESIZE, errnoName, lastErrno, type Pointer } from './native/libc';

/** The kernel's ring record header: 8 bytes, the length in the low bits and two flags above. */
export const RECORD_HEADER_SIZE = 8;
/** Set while the kernel is still writing the record. */
export const RECORD_BUSY_BIT = 0x80000000;
/** Set on a record the kernel gave up (reserved, then discarded): skipped, not delivered. */
export const RECORD_DISCARD_BIT = 0x40000000;
const LEN_MASK = 0x3fffffff;

export interface WalkedRecords {
  /** Bytes walked past (headers and padding included): where the next walk starts. */
  bytes: number;
  /** Records delivered (or counted, without a sink); discarded ones are not. */
  records: number;
}

/**
 * The one walk over ring records, for the ring itself (read linearly from its double mapping)
 * and for the copies in the burst buffer: from `start` in `view`, whole records within `length`
 * bytes, up to `max` delivered to `sink` (or only counted without one), asking `shouldStop`
 * after each. Stops at a record the kernel is still writing and before one that does not fit.
 */
export function walkRecords(
  view: DataView, bytes: Uint8Array, start: number, length: number, max: number,
  sink?: RecordSink, shouldStop?: () => boolean,
): WalkedRecords {
  let used = 0;
  let n = 0;
  while (used < length && n < max) {
    const at = start + used;
    const header = view.getUint32(at, true);
    if ((header & RECORD_BUSY_BIT) !== 0) break;
    const len = header & LEN_MASK;
    const step = (len + RECORD_HEADER_SIZE + 7) & ~7;
    if (used + step > length) break;
    used += step;
    if ((header & RECORD_DISCARD_BIT) === 0) {
      if (sink !== undefined) sink.record(view, bytes, at + RECORD_HEADER_SIZE, len);
      n++;
    }
    if (shouldStop !== undefined && shouldStop()) break;
  }
  return { bytes: used, records: n };
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
    const walked = walkRecords(this.view, this.bytes, this.offset(), this.pending(), max, sink, shouldStop);
    this.consume(walked.bytes);
    return walked.records;
  }

  /**
   * Moves the committed records (up to `into.room()` bytes) into `into` undecoded, as one copy,
   * and frees their space in the ring. Returns the number of records moved.
   */
  spill(into: BurstBuffer): number {
    if (!this.dataMapping) return 0;
    const start = this.offset();
    const walked = walkRecords(this.view, this.bytes, start, Math.min(this.pending(), into.room()), Infinity);
    if (walked.bytes === 0) return 0;
    into.push(this.bytes, start, walked.bytes, walked.records);
    this.consume(walked.bytes);
    return walked.records;
  }

  /**
   * Where the consumer is in the data mapping. `&` takes the position modulo 2^32 first, which
   * is exact because size divides 2^32; the data is mapped twice back to back, so the at most
   * `size` pending bytes from there read linearly.
   */
  private offset(): number {
    return this.position & (this.size - 1);
  }

  /** Frees `bytes` walked past for the kernel (it reuses the space only after this store). */
  private consume(bytes: number): void {
    if (bytes === 0) return;
    this.position += bytes;
    Atomics.store(this.consumerPos, 0, BigInt(this.position));
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
