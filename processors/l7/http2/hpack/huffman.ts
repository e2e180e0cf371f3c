/**
 * HPACK Huffman decoding (RFC 7541 section 5.2 and Appendix B).
 *
 * The code in Appendix B is canonical: codes of equal length are consecutive and ordered by
 * symbol value, and every length starts right after the last code of the previous length.
 * So the 257 code lengths below determine every code, and the codes are generated from them
 * at load time instead of copying the table of bit patterns (the test checks a sample of
 * patterns against the RFC).
 *
 * Decoding walks a 4-bit-at-a-time state machine built from the code tree: a state is an
 * internal node of the tree; since the shortest code is 5 bits long, one nibble completes at
 * most one symbol, so each (state, nibble) pair maps to one next state and at most one symbol.
 */

/** Code length in bits of each symbol 0..255 and EOS (256), from RFC 7541 Appendix B. */
export const HUFFMAN_CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //          ' ' .. '/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //                '0' .. '?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                  '@' .. 'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //               'P' .. '_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                  '`' .. 'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //              'p' .. 0x7f
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 0x80
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 0x90
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 0xa0
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 0xb0
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 0xc0
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 0xd0
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 0xe0
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 0xf0
  30, // EOS
];

export const EOS = 256;

/** Canonical code of each symbol (numeric value of its bit pattern, MSB first). */
export const HUFFMAN_CODES: readonly number[] = buildCanonicalCodes(HUFFMAN_CODE_LENGTHS);

function buildCanonicalCodes(lengths: readonly number[]): number[] {
  const order = lengths.map((_, symbol) => symbol).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const codes = new Array<number>(lengths.length).fill(0);
  let code = 0;
  let previousLength = lengths[order[0]];
  for (let i = 0; i < order.length; i++) {
    const symbol = order[i];
    if (i > 0) {
      // Multiplication rather than shifting: the longest codes reach 30 bits and `code + 1`
      // shifted could pass 2^31 during construction.
      code = (code + 1) * 2 ** (lengths[symbol] - previousLength);
      previousLength = lengths[symbol];
    }
    codes[symbol] = code;
  }
  return codes;
}

/** Sentinel in the symbol table: the nibble completes no symbol. */
const NO_SYMBOL = -1;
/** Sentinel in the symbol table: the nibble decodes EOS, which is an error inside a string. */
const DECODE_EOS = -2;

interface NibbleMachine {
  /** next[state * 16 + nibble] = next state (0 = root). */
  next: Uint8Array;
  /** symbol[state * 16 + nibble] = emitted symbol, NO_SYMBOL or DECODE_EOS. */
  symbol: Int16Array;
  /**
   * accepting[state]: the string may end in this state. True for the root and for nodes
   * reached from the root by at most 7 one-bits, which is what valid padding looks like
   * (the most significant bits of EOS, shorter than a byte).
   */
  accepting: Uint8Array;
}

const MACHINE: NibbleMachine = buildMachine();

function buildMachine(): NibbleMachine {
  // Binary tree of the code: child[node * 2 + bit] is an internal node id (> 0) or a leaf,
  // encoded as -(symbol + 1). Internal node 0 is the root. A complete prefix code over 257
  // symbols has exactly 256 internal nodes, so a state fits a byte.
  const child = new Int16Array(256 * 2);
  let nodes = 1;
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const length = HUFFMAN_CODE_LENGTHS[symbol];
    const code = HUFFMAN_CODES[symbol];
    let node = 0;
    for (let bitIndex = length - 1; bitIndex >= 0; bitIndex--) {
      const bit = Math.floor(code / 2 ** bitIndex) & 1;
      const slot = node * 2 + bit;
      if (bitIndex === 0) {
        child[slot] = -(symbol + 1);
      } else {
        if (child[slot] === 0) child[slot] = nodes++;
        node = child[slot];
      }
    }
  }
  if (nodes !== 256) throw new Error(`HPACK Huffman table is not a complete prefix code (${nodes} internal nodes)`);

  const accepting = new Uint8Array(256);
  accepting[0] = 1;
  for (let node = 0, depth = 0; depth < 7; depth++) {
    const next = child[node * 2 + 1];
    if (next <= 0) break;
    node = next;
    accepting[node] = 1;
  }

  const next = new Uint8Array(256 * 16);
  const symbol = new Int16Array(256 * 16);
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let emitted = NO_SYMBOL;
      for (let b = 3; b >= 0; b--) {
        const c = child[node * 2 + ((nibble >> b) & 1)];
        if (c < 0) {
          const sym = -c - 1;
          emitted = sym === EOS ? DECODE_EOS : sym;
          node = 0;
          if (sym === EOS) break;
        } else {
          node = c;
        }
      }
      next[state * 16 + nibble] = node;
      symbol[state * 16 + nibble] = emitted;
    }
  }
  return { next, symbol, accepting };
}

/**
 * Decodes `src[start, end)` into `out` (which must hold at least `(end - start) * 8 / 5`
 * bytes: the shortest code is 5 bits). Returns the number of bytes written, or -1 when the
 * input is not a valid Huffman string (EOS inside, or padding that is not a prefix of EOS or
 * longer than 7 bits).
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  const { next, symbol, accepting } = MACHINE;
  let state = 0;
  let written = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i];
    let index = state * 16 + (byte >> 4);
    let sym = symbol[index];
    state = next[index];
    if (sym >= 0) out[written++] = sym;
    else if (sym === DECODE_EOS) return -1;
    index = state * 16 + (byte & 0x0f);
    sym = symbol[index];
    state = next[index];
    if (sym >= 0) out[written++] = sym;
    else if (sym === DECODE_EOS) return -1;
  }
  return accepting[state] === 1 ? written : -1;
}

/** Upper bound of the decoded length of `encodedLength` Huffman bytes. */
export function huffmanMaxDecodedLength(encodedLength: number): number {
  return Math.floor((encodedLength * 8) / 5) + 1;
}

/** Encodes bytes with the HPACK Huffman code (used by tests and the benchmark to build inputs). */
export function huffmanEncode(input: Uint8Array): Uint8Array {
  let bits = 0;
  for (let i = 0; i < input.length; i++) bits += HUFFMAN_CODE_LENGTHS[input[i]];
  const out = new Uint8Array(Math.ceil(bits / 8));
  let bitPos = 0;
  for (let i = 0; i < input.length; i++) {
    const length = HUFFMAN_CODE_LENGTHS[input[i]];
    const code = HUFFMAN_CODES[input[i]];
    for (let b = length - 1; b >= 0; b--) {
      if (Math.floor(code / 2 ** b) & 1) out[bitPos >> 3] |= 0x80 >> (bitPos & 7);
      bitPos++;
    }
  }
  // Pad with the most significant bits of EOS (all ones).
  while (bitPos & 7) {
    out[bitPos >> 3] |= 0x80 >> (bitPos & 7);
    bitPos++;
  }
  return out;
}
