/**
 * File offsets of exported functions in a 64-bit little-endian ELF file (x86_64, arm64), which
 * is what a uprobe is attached at. Only the dynamic symbol table is read: the functions we probe
 * are exported (a stripped executable keeps .dynsym), and one table bounds the work.
 *
 * Written by hand because no maintained npm package reads ELF symbol tables; libbpf can resolve
 * a name at attach time, but discovery has to know whether an executable carries OpenSSL before
 * attaching anything, and this reads each file once for every probe.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const PT_LOAD = 1;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const SYM_SIZE = 24;
/** Larger tables are not read (node's is 1.8 MB of symbols and 5.3 MB of names). */
const MAX_TABLE_BYTES = 64 * 1024 * 1024;

export class ElfError extends Error {}

interface Segment {
  offset: number;
  vaddr: number;
  filesz: number;
}

/**
 * Offsets in the file of the named functions that the file defines and exports; names it does
 * not define are absent from the result. Throws ElfError for a file that is not a readable
 * 64-bit little-endian ELF file.
 */
export function exportedFunctionOffsets(path: string, names: readonly string[]): Map<string, number> {
  const fd = openSync(path, 'r');
  try {
    return readOffsets(fd, path, new Set(names));
  } finally {
    closeSync(fd);
  }
}

function readOffsets(fd: number, path: string, wanted: Set<string>): Map<string, number> {
  const size = fstatSync(fd).size;
  const header = read(fd, 0, 64);
  const h = view(header);
  if (header.length < 64 || h.getUint32(0, true) !== ELF_MAGIC) throw new ElfError(`${path} is not an ELF file`);
  if (header[4] !== ELFCLASS64 || header[5] !== ELFDATA2LSB) throw new ElfError(`${path} is not a 64-bit little-endian ELF file`);
  const phoff = num(h, 32);
  const shoff = num(h, 40);
  const phentsize = h.getUint16(54, true);
  const phnum = h.getUint16(56, true);
  const shentsize = h.getUint16(58, true);
  const shnum = h.getUint16(60, true);
  if (phentsize < 56 || shentsize < 64 || phoff + phnum * phentsize > size || shoff + shnum * shentsize > size) {
    throw new ElfError(`${path}: program or section headers lie outside the file`);
  }

  const segments: Segment[] = [];
  const ph = view(read(fd, phoff, phnum * phentsize));
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
    if (ph.getUint32(o, true) !== PT_LOAD) continue;
    segments.push({ offset: num(ph, o + 8), vaddr: num(ph, o + 16), filesz: num(ph, o + 32) });
  }

  const sh = view(read(fd, shoff, shnum * shentsize));
  const section = (i: number) => ({
    type: sh.getUint32(i * shentsize + 4, true),
    offset: num(sh, i * shentsize + 24),
    size: num(sh, i * shentsize + 32),
    link: sh.getUint32(i * shentsize + 40, true),
  });
  const found = new Map<string, number>();
  for (let i = 0; i < shnum; i++) {
    const symtab = section(i);
    if (symtab.type !== SHT_DYNSYM || symtab.link >= shnum) continue;
    const strtab = section(symtab.link);
    if (symtab.size > MAX_TABLE_BYTES || strtab.size > MAX_TABLE_BYTES || symtab.offset + symtab.size > size || strtab.offset + strtab.size > size) {
      throw new ElfError(`${path}: dynamic symbol table is too large or lies outside the file`);
    }
    const syms = view(read(fd, symtab.offset, symtab.size));
    const strs = read(fd, strtab.offset, strtab.size);
    for (let o = 0; o + SYM_SIZE <= symtab.size; o += SYM_SIZE) {
      if ((syms.getUint8(o + 4) & 0xf) !== STT_FUNC || syms.getUint16(o + 6, true) === 0) continue;
      const name = cString(strs, syms.getUint32(o, true));
      if (!wanted.has(name) || found.has(name)) continue;
      const value = num(syms, o + 8);
      const seg = segments.find((s) => value >= s.vaddr && value < s.vaddr + s.filesz);
      if (seg) found.set(name, value - seg.vaddr + seg.offset);
    }
  }
  return found;
}

function read(fd: number, position: number, length: number): Uint8Array {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A u64 field as a Number (ELF offsets and addresses of real files fit in 2^53). */
function num(v: DataView, off: number): number {
  return v.getUint32(off, true) + v.getUint32(off + 4, true) * 2 ** 32;
}

function cString(bytes: Uint8Array, start: number): string {
  if (start >= bytes.length) return '';
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}
