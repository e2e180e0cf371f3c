/** Invariants every emitted L7 event must keep, whatever bytes produced it (used by fuzz tests). */
import assert from 'node:assert/strict';
import type { L7Event } from '../../../core/events';

function count(value: number, what: string): void {
  assert.ok(Number.isFinite(value) && value >= 0 && Number.isInteger(value), `${what} = ${value}`);
}

export function checkL7Event(e: L7Event): void {
  assert.ok(e.startUs <= e.endUs, `start ${e.startUs} after end ${e.endUs}`);
  assert.ok(e.side === 'client' || e.side === 'server');
  assert.equal(typeof e.process.pid, 'number');
  switch (e.kind) {
    case 'l7.http':
      assert.ok(e.method.length > 0 && e.method.length <= 20, `method ${e.method}`);
      assert.equal(typeof e.path, 'string');
      assert.ok(e.httpVersion === '1.0' || e.httpVersion === '1.1');
      count(e.statusCode, 'statusCode');
      assert.ok(e.statusCode <= 999);
      count(e.requestBodySize, 'requestBodySize');
      count(e.responseBodySize, 'responseBodySize');
      if (e.traceContext) assert.match(e.traceContext.traceId, /^[0-9a-f]{32}$/);
      break;
    case 'l7.dns':
      count(e.transactionId, 'transactionId');
      assert.ok(e.transactionId <= 0xffff);
      assert.ok(e.questionName.length > 0 && e.questionName.length <= 4 * 255);
      assert.ok(e.answers.length <= 32);
      for (const a of e.answers) {
        assert.equal(typeof a.data, 'string');
        count(a.ttl, 'ttl');
      }
      break;
    default:
      break;
  }
}
