import assert from 'node:assert/strict';
import { backoffDelay, nextRetryDelay, parseRetryAfter, type RetryPolicy, type SendOutcome } from '../../../exporters/shared/retry';
import { SendingQueue, type DropReason, type SendingQueueOptions } from '../../../exporters/shared/sending-queue';
import { Batcher } from '../../../exporters/shared/batcher';
import { DropReporter } from '../../../exporters/shared/drop-reporter';
import { createLogger } from '../../../core/logger';

const policy = (p: Partial<RetryPolicy> = {}): RetryPolicy => ({
  enabled: true,
  initialIntervalMs: 10,
  maxIntervalMs: 40,
  multiplier: 2,
  randomizationFactor: 0,
  maxElapsedMs: 0,
  ...p,
});

const RETRYABLE: SendOutcome = { ok: false, retryable: true, error: new Error('ECONNREFUSED') };
const PERMANENT: SendOutcome = { ok: false, retryable: false, error: new Error('HTTP 400') };
const OK: SendOutcome = { ok: true };
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('exporters/shared/retry', () => {
  it('backs off exponentially up to max_interval, with jitter inside the randomization band', () => {
    const p = policy();
    assert.deepEqual([0, 1, 2, 3, 4].map((n) => backoffDelay(p, n)), [10, 20, 40, 40, 40]);
    const jittery = policy({ randomizationFactor: 0.5 });
    assert.equal(backoffDelay(jittery, 0, () => 0), 5);
    assert.equal(backoffDelay(jittery, 0, () => 1), 15);
  });

  it('retries only transient failures, prefers Retry-After, and stops at max_elapsed_time', () => {
    const p = policy({ maxElapsedMs: 100 });
    assert.equal(nextRetryDelay(p, OK, 0, 0), undefined);
    assert.equal(nextRetryDelay(p, PERMANENT, 0, 0), undefined);
    assert.equal(nextRetryDelay(p, RETRYABLE, 0, 0), 10);
    assert.equal(nextRetryDelay(p, { ...RETRYABLE, retryAfterMs: 70 }, 0, 0), 70, 'Retry-After wins over the backoff');
    assert.equal(nextRetryDelay(p, { ...RETRYABLE, retryAfterMs: 70 }, 0, 40), undefined, 'would pass max_elapsed_time');
    assert.equal(nextRetryDelay(policy({ enabled: false }), RETRYABLE, 0, 0), undefined);
    assert.equal(nextRetryDelay(policy({ maxElapsedMs: 0 }), RETRYABLE, 50, 1e9), 40, '0 means no limit');
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter(['2'], now), 2000);
    assert.equal(parseRetryAfter('Wed, 01 May 2024 12:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});

describe('exporters/shared/sending-queue', () => {
  interface Item {
    id: number;
    size: number;
  }

  function makeQueue(send: (item: Item) => Promise<SendOutcome>, options: Partial<SendingQueueOptions<Item>> = {}) {
    const sent: number[] = [];
    const dropped: Array<[number, DropReason]> = [];
    const queue = new SendingQueue<Item>({
      enabled: true,
      capacity: 10,
      consumers: 1,
      retry: policy(),
      sizeOf: (i) => i.size,
      send,
      onSent: (i) => sent.push(i.id),
      onDropped: (i, reason) => dropped.push([i.id, reason]),
      ...options,
    });
    return { queue, sent, dropped };
  }

  it('sends in order with bounded concurrency', async () => {
    let active = 0;
    let peak = 0;
    const { queue, sent } = makeQueue(
      async () => {
        active++;
        peak = Math.max(peak, active);
        await tick(5);
        active--;
        return OK;
      },
      { consumers: 2, capacity: 100 },
    );
    for (let id = 0; id < 6; id++) queue.submit({ id, size: 1 });
    assert.ok(await queue.drain(2000));
    assert.deepEqual(sent.sort(), [0, 1, 2, 3, 4, 5]);
    assert.equal(peak, 2);
  });

  it('drops the oldest waiting requests when full, never the newest, and never blocks submit()', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const { queue, sent, dropped } = makeQueue(async () => {
      await gate;
      return OK;
    });
    for (let id = 0; id < 8; id++) assert.equal(queue.submit({ id, size: 3 }), true);
    // id 0 is in flight; capacity 10 holds three requests of 3 items: 5, 6, 7.
    assert.deepEqual(dropped, [[1, 'queue_full'], [2, 'queue_full'], [3, 'queue_full'], [4, 'queue_full']]);
    assert.deepEqual(queue.stats(), { queuedItems: 9, queuedRequests: 3, inFlight: 1 });
    assert.equal(queue.submit({ id: 99, size: 11 }), false, 'a request larger than the queue is refused');
    release();
    assert.ok(await queue.drain(2000));
    assert.deepEqual(sent, [0, 5, 6, 7]);
  });

  it('retries transient failures until they succeed', async () => {
    const outcomes = [RETRYABLE, { ...RETRYABLE, retryAfterMs: 30 }, OK];
    const times: number[] = [];
    const { queue, sent, dropped } = makeQueue(async () => {
      times.push(Date.now());
      return outcomes.shift()!;
    });
    queue.submit({ id: 1, size: 1 });
    assert.ok(await queue.drain(2000));
    assert.deepEqual(sent, [1]);
    assert.deepEqual(dropped, []);
    assert.ok(times[2] - times[1] >= 28, 'Retry-After delay honoured');
  });

  it('drops permanent failures at once and gives up after max_elapsed_time', async () => {
    const attempts: number[] = [];
    const { queue, dropped } = makeQueue(
      async (item) => {
        attempts.push(item.id);
        return item.id === 1 ? PERMANENT : RETRYABLE;
      },
      { retry: policy({ maxElapsedMs: 50 }) },
    );
    queue.submit({ id: 1, size: 1 });
    queue.submit({ id: 2, size: 1 });
    assert.ok(await queue.drain(2000));
    assert.deepEqual(dropped, [[1, 'send_failed'], [2, 'retries_exhausted']]);
    assert.equal(attempts.filter((a) => a === 1).length, 1);
    assert.ok(attempts.filter((a) => a === 2).length >= 3, 'item 2 was retried before giving up');
  });

  it('a throwing sender counts as a permanent failure, not a crash', async () => {
    const { queue, dropped } = makeQueue(async () => {
      throw new Error('bug');
    });
    queue.submit({ id: 1, size: 1 });
    assert.ok(await queue.drain(1000));
    assert.deepEqual(dropped, [[1, 'send_failed']]);
  });

  it('drain() keeps retrying until the deadline, then drops what is left as shutdown', async () => {
    const { queue, dropped } = makeQueue(async () => RETRYABLE);
    queue.submit({ id: 1, size: 1 });
    queue.submit({ id: 2, size: 1 });
    const started = Date.now();
    assert.equal(await queue.drain(80), false);
    assert.ok(Date.now() - started < 500);
    await tick(20);
    assert.deepEqual(dropped.map(([id]) => id).sort(), [1, 2]);
    assert.ok(dropped.every(([, reason]) => reason === 'shutdown'));
    assert.equal(queue.submit({ id: 3, size: 1 }), false, 'closed after drain');
  });

  it('drain() delivers queued data when the backend recovers before the deadline', async () => {
    let up = false;
    setTimeout(() => (up = true), 40);
    const { queue, sent } = makeQueue(async () => (up ? OK : RETRYABLE));
    queue.submit({ id: 1, size: 1 });
    assert.equal(await queue.drain(2000), true);
    assert.deepEqual(sent, [1]);
  });

  it('drain() resends at once what waits for a backoff, and retries at short intervals after that', async () => {
    // Backoff of 10 s: without the drain ending it, nothing would be resent in the window.
    let up = false;
    const attempts: number[] = [];
    const { queue, sent, dropped } = makeQueue(async () => {
      attempts.push(Date.now());
      return up ? OK : RETRYABLE;
    }, { retry: policy({ initialIntervalMs: 10_000, maxIntervalMs: 10_000 }), consumers: 2 });
    queue.submit({ id: 1, size: 1 });
    queue.submit({ id: 2, size: 1 });
    await tick(30);
    assert.equal(attempts.length, 2, 'both failed once and wait out their backoff');
    up = true;
    const started = Date.now();
    assert.equal(await queue.drain(3000), true);
    assert.ok(Date.now() - started < 200, `resent at once (took ${Date.now() - started} ms)`);
    assert.deepEqual(sent.sort(), [1, 2]);
    assert.deepEqual(dropped, []);

    // A backend still down during the drain is retried every DRAIN_RETRY_INTERVAL_MS, not per backoff.
    const down = makeQueue(async () => {
      attempts.push(Date.now());
      return RETRYABLE;
    }, { retry: policy({ initialIntervalMs: 10_000, maxIntervalMs: 10_000 }) });
    attempts.length = 0;
    down.queue.submit({ id: 3, size: 1 });
    await tick(20);
    assert.equal(await down.queue.drain(700), false);
    assert.ok(attempts.length >= 3 && attempts.length <= 5, `${attempts.length} attempts in 700 ms`);
    assert.deepEqual(down.dropped, [[3, 'shutdown']]);
  });

  it('with the queue disabled, submit() resolves when the request is done', async () => {
    const { queue, sent } = makeQueue(async () => OK, { enabled: false });
    const result = queue.submit({ id: 7, size: 1 });
    assert.ok(result instanceof Promise);
    assert.equal(await result, true);
    assert.deepEqual(sent, [7]);
  });
});

describe('exporters/shared/batcher', () => {
  it('emits full batches at once and a partial batch after the flush timeout', async () => {
    const emitted: number[][] = [];
    const batcher = new Batcher<number>(3, 20, (records) => emitted.push(records));
    batcher.addAll([1, 2, 3, 4]);
    assert.deepEqual(emitted, [[1, 2, 3]]);
    batcher.add(5);
    await tick(40);
    assert.deepEqual(emitted, [[1, 2, 3], [4, 5]]);
    batcher.add(6);
    batcher.flush();
    assert.deepEqual(emitted.at(-1), [6]);
    assert.equal(batcher.size, 0);
  });
});

describe('exporters/shared/drop-reporter', () => {
  it('logs the first drop at once and sums the rest into one line per period', async () => {
    const lines: string[] = [];
    let now = 0;
    const reporter = new DropReporter(createLogger('debug', (l) => lines.push(l)), 1000, () => now);
    reporter.report('spans', 5, 'queue full');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /WARN dropped 5 spans: queue full$/);
    now = 100;
    reporter.report('spans', 7, 'queue full');
    reporter.report('log records', 2, 'HTTP 503');
    assert.equal(lines.length, 1, 'nothing more within the period');
    reporter.flush();
    assert.match(lines[1], /dropped 7 spans, 2 log records: HTTP 503$/);
    reporter.report('spans', 0, 'nothing');
    reporter.flush();
    assert.equal(lines.length, 2);
  });
});
