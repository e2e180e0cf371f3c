import assert from 'node:assert/strict';
import { DnsMessage, looksLikeDns, parseDnsMessage, PARSE_BAD_RECORDS, PARSE_MALFORMED, PARSE_OK, type ParseResult } from '../../../../processors/l7/dns/message';
import { readName } from '../../../../processors/l7/dns/names';
import { formatIpv6 } from '../../../../core/ip-text';
import { rcodeName, typeName } from '../../../../processors/l7/dns/records';
import { enc } from '../payloads';
import { A, AAAA, CNAME, dnsMessage, nameBytes, OPT, QNAME_OFFSET, TXT } from './build';

function parse(bytes: Uint8Array, truncated = false): { result: ParseResult; msg: DnsMessage } {
  const msg = new DnsMessage();
  const result = parseDnsMessage(bytes, 0, bytes.length, msg, true, truncated);
  return { result, msg };
}

describe('l7 dns message', () => {
  it('reads a response with compressed answer names', () => {
    const bytes = dnsMessage({
      id: 0xbeef,
      response: true,
      questions: [{ name: 'www.example.com', type: A }],
      answers: [
        { name: { pointer: QNAME_OFFSET }, type: CNAME, rdata: [3, ...enc('cdn'), 0xc0, QNAME_OFFSET + 4] },
        { name: 'cdn.example.com', type: A, ttl: 60, rdata: [93, 184, 216, 34] },
        { name: 'cdn.example.com', type: AAAA, ttl: 60, rdata: [0x26, 0x06, 0x28, 0, 0x02, 0x20, 0, 1, 0x2, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46] },
      ],
    });
    const { result, msg } = parse(bytes);
    assert.equal(result, PARSE_OK);
    assert.equal(msg.id, 0xbeef);
    assert.equal(msg.isResponse, true);
    assert.equal(msg.questionName, 'www.example.com');
    assert.deepEqual(msg.answers, [
      { name: 'www.example.com', type: 'CNAME', ttl: 300, data: 'cdn.example.com' },
      { name: 'cdn.example.com', type: 'A', ttl: 60, data: '93.184.216.34' },
      { name: 'cdn.example.com', type: 'AAAA', ttl: 60, data: '2606:2800:220:1:248:1893:25c8:1946' },
    ]);
  });

  it('formats TXT, MX, SRV, SOA, CAA and unknown types like dig', () => {
    const bytes = dnsMessage({
      id: 1,
      response: true,
      questions: [{ name: 'x.test', type: 255 }],
      answers: [
        { name: 'x.test', type: TXT, rdata: [5, ...enc('a "b"'), 3, ...enc('c\\d')] },
        { name: 'x.test', type: 15, rdata: [0, 10, ...nameBytes('mail.x.test')] },
        { name: 'x.test', type: 33, rdata: [0, 1, 0, 5, 0x1f, 0x90, ...nameBytes('web.x.test')] },
        { name: 'x.test', type: 6, rdata: [...nameBytes('ns.x.test'), ...nameBytes('admin.x.test'), 0, 0, 0, 7, 0, 0, 14, 16, 0, 0, 7, 8, 0, 9, 58, 128, 0, 0, 1, 44] },
        { name: 'x.test', type: 257, rdata: [0, 5, ...enc('issue'), ...enc('ca.test')] },
        { name: 'x.test', type: 4242, rdata: [0xde, 0xad] },
      ],
    });
    const { result, msg } = parse(bytes);
    assert.equal(result, PARSE_OK);
    assert.deepEqual(msg.answers.map((a) => [a.type, a.data]), [
      ['TXT', '"a \\"b\\"" "c\\\\d"'],
      ['MX', '10 mail.x.test'],
      ['SRV', '1 5 8080 web.x.test'],
      ['SOA', 'ns.x.test admin.x.test 7 3600 1800 604800 300'],
      ['CAA', '0 issue "ca.test"'],
      ['TYPE4242', '\\# 2 dead'],
    ]);
  });

  it('applies the EDNS extended RCODE from the OPT record', () => {
    const bytes = dnsMessage({
      id: 2,
      response: true,
      rcode: 0,
      questions: [{ name: 'x.test', type: A }],
      additional: [{ name: '.', type: OPT, cls: 1232, ttl: 0x01000000, rdata: [] }],
    });
    const { msg } = parse(bytes);
    assert.equal(rcodeName(msg.rcode), 'BADVERS');
  });

  it('refuses compression loops and forward pointers without spinning', () => {
    // Answer name points to itself.
    const self = dnsMessage({ id: 3, response: true, questions: [{ name: 'a.test', type: A }], answers: [{ name: 'a.test', type: A, rdata: [1, 2, 3, 4] }] });
    const answerAt = 12 + nameBytes('a.test').length + 4;
    self[answerAt] = 0xc0;
    self[answerAt + 1] = answerAt;
    assert.equal(readName(self, 0, self.length, answerAt), undefined);
    assert.equal(parse(self).result, PARSE_BAD_RECORDS);

    // Two pointers pointing at each other.
    const pair = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12]);
    assert.equal(readName(pair, 0, pair.length, 12), undefined);
    assert.equal(readName(pair, 0, pair.length, 14), undefined);

    // A chain through labels back into itself: 1 'a' then a pointer to the 'a' label start.
    const chain = Uint8Array.from([...new Array(12).fill(0), 1, 0x61, 0xc0, 12]);
    assert.equal(readName(chain, 0, chain.length, 12), undefined);
  });

  it('caps names at 255 octets', () => {
    const long = Array.from({ length: 5 }, () => 'x'.repeat(63)).join('.');
    const bytes = dnsMessage({ id: 4, questions: [{ name: long, type: A }] });
    assert.equal(parse(bytes).result, PARSE_MALFORMED);
  });

  it('escapes label bytes that are not printable', () => {
    const bytes = dnsMessage({ id: 5, questions: [{ name: 'x', type: A }] });
    const name = Uint8Array.from([...bytes.subarray(0, 12), 3, 0x61, 0x2e, 0x00, 0, 0, 1, 0, 1]);
    assert.equal(parse(name).msg.questionName, 'a\\.\\000');
  });

  it('keeps the answers that were captured when the message was cut short', () => {
    const full = dnsMessage({
      id: 6,
      response: true,
      questions: [{ name: 'many.test', type: A }],
      answers: Array.from({ length: 10 }, (_, i) => ({ name: 'many.test', type: A, rdata: [10, 0, 0, i] })),
    });
    const cut = full.subarray(0, full.length - 20);
    const partial = parse(cut, true);
    assert.equal(partial.result, PARSE_OK);
    assert.equal(partial.msg.answers.length, 9);
    assert.equal(parse(cut, false).result, PARSE_BAD_RECORDS, 'the same bytes are corrupt when nothing was cut');
  });

  it('recognises a DNS header and question, and nothing else', () => {
    assert.ok(looksLikeDns(...span(dnsMessage({ id: 7, questions: [{ name: 'x.test', type: A }] }))));
    assert.ok(looksLikeDns(...span(dnsMessage({ id: 7, response: true, questions: [{ name: 'x.test', type: A }], answers: [{ name: 'x.test', type: A, rdata: [1, 1, 1, 1] }] }))));
    assert.ok(!looksLikeDns(...span(enc('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))));
    assert.ok(!looksLikeDns(...span(Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]))));
    assert.ok(!looksLikeDns(...span(dnsMessage({ id: 8, questions: [] }))));
    assert.ok(!looksLikeDns(...span(dnsMessage({ id: 9, questions: [{ name: 'x.test', type: A }, { name: 'y.test', type: A }] }))));
    assert.ok(!looksLikeDns(...span(dnsMessage({ id: 10, questions: [{ name: 'x.test', type: A, cls: 77 }] }))));
  });

  it('names types, response codes and IPv6 addresses', () => {
    assert.equal(typeName(65), 'HTTPS');
    assert.equal(typeName(65280), 'TYPE65280');
    assert.equal(rcodeName(3), 'NXDOMAIN');
    assert.equal(rcodeName(4000), 'RCODE4000');
    const v6 = (hex: string): string => formatIpv6(Uint8Array.from(Buffer.from(hex, 'hex')), 0);
    assert.equal(v6('00000000000000000000000000000001'), '::1');
    assert.equal(v6('00000000000000000000000000000000'), '::');
    assert.equal(v6('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
    assert.equal(v6('20010db8000100000000000000000000'), '2001:db8:1::');
    assert.equal(v6('00000000000000000000ffffc0000201'), '::ffff:192.0.2.1');
    assert.equal(v6('20010db8000000010001000100010001'), '2001:db8:0:1:1:1:1:1');
  });
});

function span(bytes: Uint8Array): [Uint8Array, number, number] {
  return [bytes, 0, bytes.length];
}
