import assert from 'node:assert/strict';
import { expandEnv } from '../../../core/config/expand';

describe('config env expansion', () => {
  const env = { HOST: 'collector.local', PORT: '4318', EMPTY: '' };
  it('expands ${env:VAR} inside strings and keeps the rest', () => {
    const { value } = expandEnv({ endpoint: 'http://${env:HOST}:${env:PORT}/v1' }, env);
    assert.deepEqual(value, { endpoint: 'http://collector.local:4318/v1' });
  });
  it('uses the default when the variable is unset or empty', () => {
    const { value, missing } = expandEnv({ a: '${env:NOPE:-fallback}', b: '${env:EMPTY:-x}' }, env);
    assert.deepEqual(value, { a: 'fallback', b: 'x' });
    assert.deepEqual(missing, []);
  });
  it('turns $$ into a literal dollar and does not expand after it', () => {
    const { value } = expandEnv({ a: 'cost $$5', b: '$${env:HOST}' }, env);
    assert.deepEqual(value, { a: 'cost $5', b: '${env:HOST}' });
  });
  it('reports unset variables without a default with the path using them, and expands them to empty', () => {
    const { value, missing } = expandEnv({ a: 'x${env:MISSING}y', b: [{ c: '${env:ALSO_MISSING}' }] }, env);
    assert.deepEqual(value, { a: 'xy', b: [{ c: '' }] });
    assert.deepEqual(missing, [{ name: 'MISSING', path: ['a'] }, { name: 'ALSO_MISSING', path: ['b', 0, 'c'] }]);
  });
  it('types a value that is wholly one reference', () => {
    const { value } = expandEnv({ port: '${env:PORT}', on: '${env:X:-true}', text: 'p${env:PORT}' }, env);
    assert.deepEqual(value, { port: 4318, on: true, text: 'p4318' });
  });
  it('walks lists and nested maps, never keys', () => {
    const { value } = expandEnv({ '${env:HOST}': ['${env:HOST}', { k: '${env:PORT}' }] }, env);
    assert.deepEqual(value, { '${env:HOST}': ['collector.local', { k: 4318 }] });
  });
});
