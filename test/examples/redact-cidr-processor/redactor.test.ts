import assert from 'node:assert/strict';
import { AddressRedactor, parseCidr, type ParsedCidr } from '../../../examples/redact-cidr-processor/redactor';

function cidrs(...texts: string[]): ParsedCidr[] {
  return texts.map((t) => {
    const parsed = parseCidr(t);
    assert.ok(typeof parsed !== 'string', String(parsed));
    return parsed;
  });
}

describe('redact_cidr address matching', () => {
  it('parses CIDRs and explains what is wrong with the rest', () => {
    assert.deepEqual(parseCidr(' 10.0.0.0/8 '), { label: '10.0.0.0/8', family: 'ipv4', address: '10.0.0.0', prefix: 8 });
    assert.deepEqual(parseCidr('fd00::/8'), { label: 'fd00::/8', family: 'ipv6', address: 'fd00::', prefix: 8 });
    assert.match(parseCidr('10.0.0.0') as string, /has no prefix length/);
    assert.match(parseCidr('10.0.0.300/8') as string, /"10\.0\.0\.300" in .* is not an IPv4 or IPv6 address/);
    assert.match(parseCidr('10.0.0.0/33') as string, /from 0 to 32/);
    assert.match(parseCidr('fd00::/129') as string, /from 0 to 128/);
    assert.match(parseCidr('10.0.0.0/x') as string, /must be a whole number/);
  });

  it('reports the first matching range with action network', () => {
    const r = new AddressRedactor(cidrs('10.1.0.0/16', '10.0.0.0/8', 'fc00::/7'), 'network', 'x', 16);
    assert.equal(r.redact('10.1.2.3'), '10.1.0.0/16');
    assert.equal(r.redact('10.9.2.3'), '10.0.0.0/8');
    assert.equal(r.redact('::ffff:10.9.2.3'), '10.0.0.0/8', 'IPv4-mapped IPv6 matches IPv4 ranges');
    assert.equal(r.redact('fd12::1'), 'fc00::/7');
    assert.equal(r.redact('11.0.0.1'), null);
    assert.equal(r.redact('2001:db8::1'), null);
    assert.equal(r.redact(''), null);
    assert.equal(r.redact('not-an-address'), null);
  });

  it('writes the replacement with action replace', () => {
    const r = new AddressRedactor(cidrs('192.168.0.0/16'), 'replace', 'hidden', 16);
    assert.equal(r.redact('192.168.1.1'), 'hidden');
    assert.equal(r.redact('192.169.1.1'), null);
  });

  it('answers the same from its bounded cache, and without one', () => {
    const cached = new AddressRedactor(cidrs('10.0.0.0/8'), 'network', 'x', 4);
    const uncached = new AddressRedactor(cidrs('10.0.0.0/8'), 'network', 'x', 0);
    for (let i = 0; i < 200; i++) {
      const address = `${i % 2 ? 10 : 11}.0.0.${i % 7}`;
      assert.equal(cached.redact(address), uncached.redact(address), address);
    }
  });
});
