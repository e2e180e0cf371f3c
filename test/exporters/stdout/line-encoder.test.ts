import assert from 'node:assert/strict';
import { LineEncoder } from '../../../exporters/stdout/line-encoder';

describe('stdout line encoder', () => {
  it('encodes each line as UTF-8 followed by a newline, as Buffer.from would encode the joined text', () => {
    const lines = ['{"a":1}', 'café – naïve', 'emoji 🚀 in a path /ü/😀', 'lone \ud800 surrogate', ''];
    const encoder = new LineEncoder();
    for (const line of lines) encoder.add(line);
    const expected = Buffer.from(lines.map((l) => l + '\n').join(''));
    assert.equal(encoder.byteLength, expected.length);
    assert.deepEqual(encoder.take(), expected);
    assert.equal(encoder.byteLength, 0, 'take starts over');
  });

  it('grows past its first scratch for a large batch, and what it gave out stays intact', () => {
    const encoder = new LineEncoder();
    const line = 'é'.repeat(1000) + '😀'.repeat(500);
    for (let i = 0; i < 200; i++) encoder.add(`${i} ${line}`);
    const first = encoder.take();
    assert.equal(first.toString('utf8').split('\n').length, 201);
    assert.equal(first.length, Buffer.byteLength(Array.from({ length: 200 }, (_, i) => `${i} ${line}\n`).join('')));
    const copy = Buffer.from(first);
    // The next batch reuses (or replaces) the scratch; the chunk the writer may still hold does not change.
    for (let i = 0; i < 200; i++) encoder.add('x'.repeat(5000));
    encoder.take();
    assert.deepEqual(first, copy);
  });

  it('takes an empty batch as an empty chunk', () => {
    assert.equal(new LineEncoder().take().length, 0);
  });
});
