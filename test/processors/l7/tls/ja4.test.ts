import assert from 'node:assert/strict';
import { ja4, ja4Raw, parseClientHello, type ClientHello } from '../../../../processors/l7/tls';
import { alpn, clientHelloBody, extension, signatureAlgorithms, sni, supportedVersions } from './tls-builders';

const list = (s: string): number[] => s.split(',').map((x) => parseInt(x, 16));

/** The ClientHello of FoxIO's worked example (JA4.md), in its original order, plus GREASE. */
function specExample(): ClientHello {
  return {
    legacyVersion: 0x0303,
    cipherSuites: [0x0a0a, ...list('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035')],
    extensions: [0x1a1a, ...list('001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015'), 0x2a2a],
    serverName: 'example.com',
    alpn: ['h2', 'http/1.1'],
    firstAlpn: Buffer.from('h2'),
    supportedVersions: [0x3a3a, 0x0304, 0x0303],
    signatureAlgorithms: list('0403,0804,0401,0503,0805,0501,0806,0601'),
  };
}

describe('JA4 fingerprint', () => {
  it("matches the specification's worked example", () => {
    const hello = specExample();
    assert.equal(ja4(hello), 't13d1516h2_8daaf6152771_e5627efa2ab1');
    assert.equal(
      ja4Raw(hello),
      't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
    );
  });

  it('hashes the extension list without an underscore when there are no signature algorithms', () => {
    // JA4.md: "0005,000a,...,ff01 = 6d807ffa2a79".
    const hello = { ...specExample(), signatureAlgorithms: [] };
    assert.equal(ja4(hello).split('_')[2], '6d807ffa2a79');
  });

  it('matches a published Chrome fingerprint with ECH and ALPS (ja4_r and ja4)', () => {
    const hello: ClientHello = {
      ...specExample(),
      cipherSuites: list('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035'),
      extensions: list('002d,0033,0010,fe0d,0017,44cd,0000,000b,000a,002b,ff01,0023,0012,0005,000d,001b'),
    };
    assert.equal(ja4(hello), 't13d1516h2_8daaf6152771_d8a2da3f94cd');
  });

  it('computes the same from the wire bytes, GREASE and all', () => {
    const ciphers = [0x2a2a, ...list('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035')];
    const extensions = [
      extension(0x1a1a, []),
      extension(0x001b, [2, 0, 2]),
      sni('example.com'),
      extension(0x0033, [0, 0]),
      alpn('h2', 'http/1.1'),
      extension(0x4469, [0, 3, 2, 0x68, 0x32]),
      extension(0x0017, []),
      extension(0x002d, [1, 1]),
      signatureAlgorithms(...list('0403,0804,0401,0503,0805,0501,0806,0601')),
      extension(0x0005, [1, 0, 0, 0, 0]),
      extension(0x0023, []),
      extension(0x0012, []),
      supportedVersions(0x5a5a, 0x0304, 0x0303),
      extension(0xff01, [0]),
      extension(0x000b, [1, 0]),
      extension(0x000a, [0, 2, 0, 0x1d]),
      extension(0x0015, [0, 0]),
      extension(0x3a3a, [0]),
    ];
    const body = Uint8Array.from(clientHelloBody({ ciphers, extensions }));
    const hello = parseClientHello(body, 0, body.length);
    assert.ok(hello);
    assert.equal(hello.serverName, 'example.com');
    assert.deepEqual(hello.alpn, ['h2', 'http/1.1']);
    assert.equal(ja4(hello), 't13d1516h2_8daaf6152771_e5627efa2ab1');
  });

  it('applies the ALPN rules: absent, one character, non-alphanumeric bytes', () => {
    const withAlpn = (bytes: number[] | undefined): string => ja4({ ...specExample(), firstAlpn: bytes ? Uint8Array.from(bytes) : undefined }).slice(8, 10);
    assert.equal(withAlpn(undefined), '00');
    assert.equal(withAlpn([]), '00');
    assert.equal(withAlpn([0x61]), 'aa');
    assert.equal(withAlpn([...Buffer.from('http/1.1')]), 'h1');
    // The examples of JA4.md.
    assert.equal(withAlpn([0xab]), 'ab');
    assert.equal(withAlpn([0xab, 0xcd]), 'ad');
    assert.equal(withAlpn([0x30, 0xab]), '3b');
    assert.equal(withAlpn([0x30, 0x31, 0xab, 0xcd]), '3d');
    assert.equal(withAlpn([0x30, 0xab, 0xcd, 0x31]), '01');
  });

  it('takes the version from supported_versions, else the legacy version; IP destinations get i', () => {
    const base = specExample();
    assert.equal(ja4({ ...base, supportedVersions: [] }).slice(0, 4), 't12d');
    assert.equal(ja4({ ...base, supportedVersions: [], legacyVersion: 0x0301 }).slice(0, 3), 't10');
    assert.equal(ja4({ ...base, supportedVersions: [0x0303, 0x0302] }).slice(0, 3), 't12');
    assert.equal(ja4({ ...base, supportedVersions: [0x7f17] }).slice(0, 3), 't00');
    assert.equal(ja4({ ...base, extensions: base.extensions.filter((e) => e !== 0) })[3], 'i');
  });

  it('marks empty lists with zeros and caps counts at 99', () => {
    const empty: ClientHello = { legacyVersion: 0x0303, cipherSuites: [], extensions: [], alpn: [], supportedVersions: [], signatureAlgorithms: [] };
    assert.equal(ja4(empty), 't12i000000_000000000000_000000000000');
    const many: ClientHello = { ...empty, cipherSuites: Array.from({ length: 150 }, (_, i) => 0x0100 + i) };
    assert.equal(ja4(many).slice(4, 6), '99');
  });
});
