import assert from 'node:assert/strict';
import { compareEndpoints, parseAddress } from '../../../processors/probabilistic_sampler/ip';

function parsed(text: string): number[] | undefined {
  const out = new Uint8Array(16).fill(0xaa);
  return parseAddress(text, out) ? [...out] : undefined;
}

const hex = (s: string): number[] => [...Buffer.from(s.replace(/\s/g, ''), 'hex')];

describe('probabilistic_sampler address parsing', () => {
  it('stores IPv4 as IPv4-mapped IPv6', () => {
    assert.deepEqual(parsed('127.0.0.1'), hex('00000000 00000000 0000ffff 7f000001'));
    assert.deepEqual(parsed('255.255.255.255'), hex('00000000 00000000 0000ffff ffffffff'));
    assert.deepEqual(parsed('0.0.0.0'), hex('00000000 00000000 0000ffff 00000000'));
  });

  it('parses IPv6 forms: full, compressed, embedded IPv4, zone', () => {
    assert.deepEqual(parsed('2001:db8:0:0:0:0:2:1'), hex('20010db8 00000000 00000000 00020001'));
    assert.deepEqual(parsed('2001:db8::2:1'), hex('20010db8 00000000 00000000 00020001'));
    assert.deepEqual(parsed('::1'), hex('00000000 00000000 00000000 00000001'));
    assert.deepEqual(parsed('::'), hex('00000000 00000000 00000000 00000000'));
    assert.deepEqual(parsed('fe80::'), hex('fe800000 00000000 00000000 00000000'));
    assert.deepEqual(parsed('fe80::1%eth0'), hex('fe800000 00000000 00000000 00000001'));
    assert.deepEqual(parsed('::ffff:10.1.2.3'), parsed('10.1.2.3'));
    assert.deepEqual(parsed('::FFFF:0A01:0203'), parsed('10.1.2.3'));
    assert.deepEqual(parsed('1:2:3:4:5:6:7::'), hex('00010002 00030004 00050006 00070000'));
    assert.deepEqual(parsed('64:ff9b::192.0.2.33'), hex('0064ff9b 00000000 00000000 c0000221'));
  });

  it('rejects malformed text', () => {
    for (const bad of [
      '', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1..2.3', 'a.b.c.d', '1.2.3.4 ', ':1', '1:', '1:::2',
      '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1.2.3', 'localhost',
    ]) {
      assert.equal(parsed(bad), undefined, `accepted ${JSON.stringify(bad)}`);
    }
  });

  it('orders endpoints by address bytes, then port', () => {
    const a = new Uint8Array(16);
    const b = new Uint8Array(16);
    parseAddress('10.0.0.1', a);
    parseAddress('10.0.0.2', b);
    assert.equal(compareEndpoints(a, 9999, b, 1), -1);
    assert.equal(compareEndpoints(b, 1, a, 9999), 1);
    assert.equal(compareEndpoints(a, 1, a, 2), -1);
    assert.equal(compareEndpoints(a, 2, a, 2), 0);
  });
});
