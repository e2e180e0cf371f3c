import assert from 'node:assert/strict';
import { parseDuration, parseSize } from '../../core/units';

describe('units', () => {
  it('parses Go-style durations to milliseconds', () => {
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('500us'), 0.5);
  });
  it('rejects what is not a duration', () => {
    for (const bad of ['', '10', 's', '10x', '1h 30m', '-5s', '10s5']) assert.equal(parseDuration(bad), undefined, bad);
  });
  it('parses sizes with binary and decimal units', () => {
    assert.equal(parseSize('8MiB'), 8 * 1024 * 1024);
    assert.equal(parseSize('64KB'), 64_000);
    assert.equal(parseSize('4096'), 4096);
    assert.equal(parseSize('1GiB'), 1024 ** 3);
    assert.equal(parseSize('2k'), 2048);
  });
  it('rejects what is not a size', () => {
    for (const bad of ['', 'MiB', '8 XB', '-1', '1e3']) assert.equal(parseSize(bad), undefined, bad);
  });
});
