import assert from 'node:assert/strict';
import {
  DECODE_ERROR,
  DECODE_OK,
  H_AUTHORITY,
  H_METHOD,
  H_OTHER,
  H_PATH,
  H_STATUS,
  H_UNKNOWN,
  HpackDecoder,
  MAX_DYNAMIC_TABLE_SIZE,
  type HpackDecoderOptions,
} from '../../../../processors/l7/http2/hpack/decoder';
import { EOS, HUFFMAN_CODES, HUFFMAN_CODE_LENGTHS, huffmanDecode, huffmanEncode } from '../../../../processors/l7/http2/hpack/huffman';
import { STATIC_TABLE } from '../../../../processors/l7/http2/hpack/static-table';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

interface Field {
  code: number;
  name: string;
  value: string;
}

function decode(decoder: HpackDecoder, block: Uint8Array): { status: number; fields: Field[] } {
  const fields: Field[] = [];
  const status = decoder.decode(block, 0, block.length, (code, name, value) => fields.push({ code, name, value }));
  return { status, fields };
}

function pairs(fields: Field[]): [string, string][] {
  return fields.map((f) => [f.name, f.value]);
}

function table(decoder: HpackDecoder): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 62; i < 62 + decoder.tableLength; i++) {
    const e = decoder.entry(i);
    assert.ok(e);
    out.push([e.name, e.value]);
  }
  return out;
}

const full = (options: HpackDecoderOptions = {}): HpackDecoder => new HpackDecoder({ fullDecode: true, ...options });

describe('HPACK Huffman code (RFC 7541 Appendix B)', () => {
  it('generates the canonical codes of the RFC table', () => {
    // Spot checks straight from Appendix B: (symbol, code as hex, length).
    const samples: [number, number, number][] = [
      [0, 0x1ff8, 13],
      [32, 0x14, 6], // ' '
      [48, 0x0, 5], // '0'
      [97, 0x3, 5], // 'a'
      [101, 0x5, 5], // 'e'
      [122, 0x7b, 7], // 'z'
      [127, 0xffffffc, 28],
      [200, 0x3ffffe2, 26],
      [255, 0x3ffffee, 26],
      [EOS, 0x3fffffff, 30],
    ];
    for (const [symbol, code, length] of samples) {
      assert.equal(HUFFMAN_CODE_LENGTHS[symbol], length, `length of ${symbol}`);
      assert.equal(HUFFMAN_CODES[symbol], code, `code of ${symbol}`);
    }
  });

  it('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const encoded = huffmanEncode(all);
    const out = new Uint8Array(512);
    const n = huffmanDecode(encoded, 0, encoded.length, out);
    assert.equal(n, 256);
    assert.deepEqual(out.subarray(0, n), all);
  });

  it('decodes the RFC example strings', () => {
    const cases: [string, string][] = [
      ['f1e3c2e5f23a6ba0ab90f4ff', 'www.example.com'],
      ['a8eb10649cbf', 'no-cache'],
      ['25a849e95ba97d7f', 'custom-key'],
      ['25a849e95bb8e8b4bf', 'custom-value'],
      ['6402', '302'],
      ['aec3771a4b', 'private'],
      ['d07abe941054d444a8200595040b8166e082a62d1bff', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['9d29ad171863c78f0b97c8e9ae82ae43d3', 'https://www.example.com'],
    ];
    for (const [h, text] of cases) {
      const src = hex(h);
      const out = new Uint8Array(64);
      const n = huffmanDecode(src, 0, src.length, out);
      assert.equal(Buffer.from(out.subarray(0, n)).toString('latin1'), text);
      assert.deepEqual(huffmanEncode(Buffer.from(text, 'latin1')), src);
    }
  });

  it('rejects padding that is not EOS bits, padding longer than 7 bits, and EOS inside', () => {
    const out = new Uint8Array(16);
    assert.equal(huffmanDecode(hex('1f'), 0, 1, out), 1, "'a' + 111 padding is valid");
    assert.equal(huffmanDecode(hex('18'), 0, 1, out), -1, "'a' + 000 padding");
    assert.equal(huffmanDecode(hex('1fff'), 0, 2, out), -1, "'a' + 11 bits of padding");
    assert.equal(huffmanDecode(hex('ffffffff'), 0, 4, out), -1, 'EOS decoded');
    assert.equal(huffmanDecode(hex(''), 0, 0, out), 0, 'empty string');
  });
});

describe('HPACK decoder (RFC 7541 Appendix C)', () => {
  it('C.1 integer representation (5-bit prefix, as in table size updates)', () => {
    const d = full();
    assert.equal(decode(d, hex('2a')).status, DECODE_OK); // C.1.1: 10
    assert.equal(d.tableMaxSize, 10);
    assert.equal(decode(d, hex('3f9a0a')).status, DECODE_OK); // C.1.2: 1337
    assert.equal(d.tableMaxSize, 1337);
    assert.equal(decode(d, hex('3f9a')).status, DECODE_ERROR, 'continuation byte missing');
  });

  it('C.2.1 literal with indexing', () => {
    const d = full();
    const r = decode(d, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    assert.equal(r.status, DECODE_OK);
    assert.deepEqual(pairs(r.fields), [['custom-key', 'custom-header']]);
    assert.deepEqual(table(d), [['custom-key', 'custom-header']]);
    assert.equal(d.tableSize, 55);
  });

  it('C.2.2 literal without indexing', () => {
    const d = full();
    const r = decode(d, hex('040c 2f73 616d 706c 652f 7061 7468'));
    assert.deepEqual(pairs(r.fields), [[':path', '/sample/path']]);
    assert.equal(d.tableLength, 0);
  });

  it('C.2.3 literal never indexed', () => {
    const d = full();
    const r = decode(d, hex('1008 7061 7373 776f 7264 0673 6563 7265 74'));
    assert.deepEqual(pairs(r.fields), [['password', 'secret']]);
    assert.equal(d.tableLength, 0);
  });

  it('C.2.4 indexed field', () => {
    const d = full();
    assert.deepEqual(pairs(decode(d, hex('82')).fields), [[':method', 'GET']]);
  });

  const requests = {
    c3: ['828684410f7777772e6578616d706c652e636f6d', '828684be58086e6f2d6361636865', '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'],
    c4: ['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'],
  };
  for (const [section, blocks] of Object.entries(requests)) {
    it(`${section === 'c3' ? 'C.3' : 'C.4'} requests ${section === 'c3' ? 'without' : 'with'} Huffman coding`, () => {
      const d = full();
      let r = decode(d, hex(blocks[0]));
      assert.equal(r.status, DECODE_OK);
      assert.deepEqual(pairs(r.fields), [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]);
      assert.deepEqual(table(d), [[':authority', 'www.example.com']]);
      assert.equal(d.tableSize, 57);

      r = decode(d, hex(blocks[1]));
      assert.deepEqual(pairs(r.fields), [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]);
      assert.deepEqual(table(d), [['cache-control', 'no-cache'], [':authority', 'www.example.com']]);
      assert.equal(d.tableSize, 110);

      r = decode(d, hex(blocks[2]));
      assert.deepEqual(pairs(r.fields), [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]);
      assert.deepEqual(table(d), [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']]);
      assert.equal(d.tableSize, 164);
    });
  }

  const responses = {
    c5: [
      '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
      '4803333037c1c0bf',
      '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
    ],
    c6: [
      '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
      '4883640effc1c0bf',
      '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
    ],
  };
  for (const [section, blocks] of Object.entries(responses)) {
    it(`${section === 'c5' ? 'C.5' : 'C.6'} responses ${section === 'c5' ? 'without' : 'with'} Huffman coding, table of 256 octets, with eviction`, () => {
      const d = full({ initialTableSize: 256 });
      const date1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
      const date2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
      const loc = 'https://www.example.com';
      const cookie = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';

      let r = decode(d, hex(blocks[0]));
      assert.equal(r.status, DECODE_OK);
      assert.deepEqual(pairs(r.fields), [[':status', '302'], ['cache-control', 'private'], ['date', date1], ['location', loc]]);
      assert.deepEqual(table(d), [['location', loc], ['date', date1], ['cache-control', 'private'], [':status', '302']]);
      assert.equal(d.tableSize, 222);

      r = decode(d, hex(blocks[1]));
      assert.deepEqual(pairs(r.fields), [[':status', '307'], ['cache-control', 'private'], ['date', date1], ['location', loc]]);
      assert.deepEqual(table(d), [[':status', '307'], ['location', loc], ['date', date1], ['cache-control', 'private']]);
      assert.equal(d.tableSize, 222);

      r = decode(d, hex(blocks[2]));
      assert.deepEqual(pairs(r.fields), [
        [':status', '200'],
        ['cache-control', 'private'],
        ['date', date2],
        ['location', loc],
        ['content-encoding', 'gzip'],
        ['set-cookie', cookie],
      ]);
      assert.deepEqual(table(d), [['set-cookie', cookie], ['content-encoding', 'gzip'], ['date', date2]]);
      assert.equal(d.tableSize, 215);
    });
  }
});

describe('HPACK decoder for an observer', () => {
  it('materializes only the named headers unless asked for everything, with the same table state', () => {
    const blocks = [
      '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
      '4883640effc1c0bf',
    ];
    const lean = new HpackDecoder({ initialTableSize: 256 });
    const rich = full({ initialTableSize: 256 });
    for (const b of blocks) {
      const r = decode(lean, hex(b));
      const f = decode(rich, hex(b));
      assert.equal(r.status, DECODE_OK);
      assert.equal(r.fields.length, f.fields.length);
      assert.equal(lean.tableSize, rich.tableSize);
      assert.equal(r.fields[0].code, H_STATUS);
      for (const field of r.fields) {
        assert.equal(field.name, '');
        if (field.code === H_OTHER) assert.equal(field.value, '', 'values of other headers are not kept');
      }
    }
    const fresh = new HpackDecoder({ initialTableSize: 256 });
    decode(fresh, hex(blocks[0]));
    assert.deepEqual(
      decode(fresh, hex(blocks[1])).fields.map((f) => [f.code, f.value]),
      [[H_STATUS, '307'], [H_OTHER, ''], [H_OTHER, ''], [H_OTHER, '']],
    );
  });

  it('codes the named headers from static, dynamic and literal names', () => {
    const d = new HpackDecoder();
    // :method GET (static), literal :path with indexing (name from static), literal new name
    // ':authority' with incremental indexing, then both again from the dynamic table.
    const block = Buffer.concat([hex('82'), hex('4405'), Buffer.from('/a?b1'), hex('000a'), Buffer.from(':authority'), hex('01'), Buffer.from('h')]);
    const r = decode(d, block);
    assert.deepEqual(r.fields.map((f) => [f.code, f.value]), [[H_METHOD, 'GET'], [H_PATH, '/a?b1'], [H_AUTHORITY, 'h']]);
    const again = decode(d, hex('be'));
    assert.deepEqual(again.fields.map((f) => [f.code, f.value]), [[H_PATH, '/a?b1']]);
  });

  it('decodes table size updates and evicts', () => {
    const d = full();
    decode(d, hex('828684410f7777772e6578616d706c652e636f6d'));
    assert.equal(d.tableLength, 1);
    assert.equal(decode(d, hex('20')).status, DECODE_OK, 'size update to 0');
    assert.equal(d.tableLength, 0);
    assert.equal(d.tableMaxSize, 0);
    assert.equal(decode(d, hex('3fe11f 82')).status, DECODE_OK, 'size update to 4096 then a field');
    assert.equal(d.tableMaxSize, 4096);
  });

  it('drops an entry larger than the table and empties the table (RFC 7541 4.4)', () => {
    const d = full({ initialTableSize: 64 });
    decode(d, Buffer.concat([hex('4001'), Buffer.from('a'), hex('01'), Buffer.from('b')]));
    assert.equal(d.tableLength, 1);
    decode(d, Buffer.concat([hex('4001'), Buffer.from('c'), hex('20'), Buffer.from('x'.repeat(32))]));
    assert.equal(d.tableLength, 0);
    assert.equal(d.tableSize, 0);
  });

  it('counts size updates above the announced limit and clamps what it keeps', () => {
    const d = full();
    d.setAnnouncedLimit(1024);
    assert.equal(decode(d, hex('3fe11f')).status, DECODE_OK); // 4096 > 1024
    assert.equal(d.limitViolations, 1);
    const big = new HpackDecoder({ maxTableSize: 128 });
    decode(big, hex('3fe11f'));
    assert.equal(big.tableMaxSize, 128);
    assert.ok(big.degraded, 'a clamped table may miss entries the peer still references');
    assert.ok(MAX_DYNAMIC_TABLE_SIZE >= 4096);
  });

  it('rejects malformed blocks and falls back to degraded mode', () => {
    const cases: [string, string][] = [
      ['80', 'index 0'],
      ['ffffffffffff0f', 'integer overflow'],
      ['ff', 'truncated integer'],
      ['bf', 'index beyond the dynamic table'],
      ['400a6162', 'string longer than the block'],
      ['4082ffff0161', 'Huffman string with EOS'],
      ['8220', 'size update after a field'],
    ];
    for (const [h, what] of cases) {
      const d = full();
      decode(d, hex('828684410f7777772e6578616d706c652e636f6d'));
      const r = decode(d, hex(h));
      assert.equal(r.status, DECODE_ERROR, what);
      assert.equal(d.errors, 1, what);
      assert.ok(d.degraded, what);
      assert.equal(d.tableLength, 0, `${what}: table reset`);
    }
  });

  it('in degraded mode decodes references to unseen entries as unknown and keeps newer ones exact', () => {
    // The capture starts at the third request of C.3: entry 62 (:authority) is unknown.
    const d = full({ degraded: true });
    const r = decode(d, hex('828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'));
    assert.equal(r.status, DECODE_OK);
    assert.deepEqual(r.fields.map((f) => f.code === H_UNKNOWN ? '?' : `${f.name}=${f.value}`), [':method=GET', ':scheme=https', ':path=/index.html', '?', 'custom-key=custom-value']);
    assert.equal(d.unknownReferences, 1);
    // custom-key is now the newest entry (62) and decodes exactly.
    assert.deepEqual(pairs(decode(d, hex('be')).fields), [['custom-key', 'custom-value']]);
    // A literal whose name refers to an unseen entry is inserted with an unknown name.
    const r2 = decode(d, hex('7f0403787878')); // name index 67 (unknown), value "xxx", with indexing
    assert.equal(r2.fields[0].code, H_UNKNOWN);
    assert.equal(decode(d, hex('be')).fields[0].code, H_UNKNOWN);
    assert.equal(decode(d, hex('bf')).fields[0].name, 'custom-key');
  });

  it('stops delivering fields past the header list cap but keeps the table in step', () => {
    const d = full({ maxHeaderListSize: 100 });
    const block = Buffer.concat([hex('82'), hex('4001'), Buffer.from('a'), hex('7f21'), Buffer.from('v'.repeat(160)), hex('4001'), Buffer.from('b'), hex('01'), Buffer.from('c')]);
    const r = decode(d, block);
    assert.equal(r.status, DECODE_OK);
    assert.deepEqual(pairs(r.fields), [[':method', 'GET']]);
    assert.equal(d.truncatedLists, 1);
    assert.equal(d.tableLength, 2, 'both literals with indexing were inserted');
  });

  it('has the 61 static entries of Appendix A', () => {
    assert.equal(STATIC_TABLE.length, 61);
    assert.deepEqual(STATIC_TABLE[0], [':authority', '']);
    assert.deepEqual(STATIC_TABLE[7], [':status', '200']);
    assert.deepEqual(STATIC_TABLE[60], ['www-authenticate', '']);
  });
});
