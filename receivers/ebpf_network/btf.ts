/**
 * A minimal reader for the BTF section of a compiled BPF object (ELF64, little endian), or of
 * the BTF libbpf holds for an opened one. Used to find where a global variable sits inside
 * .rodata before load, and by the tests to
 * check the decoder's offsets against what the compiler really laid out. libbpf offers the
 * same through btf__* calls, but those need pointer walking per field through koffi; the
 * format is small and stable (kernel Documentation/bpf/btf.rst), so it is parsed here.
 */
import { readFileSync } from 'node:fs';

const BTF_MAGIC = 0xeb9f;

export const BtfKind = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export interface BtfMember {
  name: string;
  typeId: number;
  /** Offset in bits from the start of the struct. */
  bitOffset: number;
  /** Bitfield width, 0 for ordinary members. */
  bitSize: number;
}

export interface BtfVarSecinfo {
  typeId: number;
  offset: number;
  size: number;
}

export interface BtfType {
  id: number;
  kind: number;
  name: string;
  /** size for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT, referenced type id for the others. */
  sizeOrType: number;
  members?: BtfMember[];
  secinfos?: BtfVarSecinfo[];
  array?: { typeId: number; nelems: number };
}

export class Btf {
  /** Index = type id; id 0 is void. */
  readonly types: BtfType[] = [];

  constructor(data: Uint8Array) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (view.getUint16(0, true) !== BTF_MAGIC) throw new Error('not a little-endian BTF blob (bad magic)');
    const hdrLen = view.getUint32(4, true);
    const typeOff = hdrLen + view.getUint32(8, true);
    const typeLen = view.getUint32(12, true);
    const strOff = hdrLen + view.getUint32(16, true);
    const strLen = view.getUint32(20, true);
    const strings = data.subarray(strOff, strOff + strLen);
    const str = (off: number): string => {
      let end = off;
      while (end < strings.length && strings[end] !== 0) end++;
      return Buffer.from(strings.buffer, strings.byteOffset + off, end - off).toString('utf8');
    };
    this.types.push({ id: 0, kind: 0, name: 'void', sizeOrType: 0 });
    let pos = typeOff;
    const end = typeOff + typeLen;
    while (pos < end) {
      const nameOff = view.getUint32(pos, true);
      const info = view.getUint32(pos + 4, true);
      const sizeOrType = view.getUint32(pos + 8, true);
      pos += 12;
      const vlen = info & 0xffff;
      const kind = (info >>> 24) & 0x1f;
      const kindFlag = (info >>> 31) === 1;
      const t: BtfType = { id: this.types.length, kind, name: str(nameOff), sizeOrType };
      switch (kind) {
        case BtfKind.INT:
        case BtfKind.VAR:
        case BtfKind.DECL_TAG:
          pos += 4;
          break;
        case BtfKind.ARRAY:
          t.array = { typeId: view.getUint32(pos, true), nelems: view.getUint32(pos + 8, true) };
          pos += 12;
          break;
        case BtfKind.STRUCT:
        case BtfKind.UNION:
          t.members = [];
          for (let i = 0; i < vlen; i++) {
            const off = view.getUint32(pos + 8, true);
            t.members.push({
              name: str(view.getUint32(pos, true)),
              typeId: view.getUint32(pos + 4, true),
              bitOffset: kindFlag ? off & 0xffffff : off,
              bitSize: kindFlag ? off >>> 24 : 0,
            });
            pos += 12;
          }
          break;
        case BtfKind.ENUM:
        case BtfKind.FUNC_PROTO:
          pos += 8 * vlen;
          break;
        case BtfKind.ENUM64:
          pos += 12 * vlen;
          break;
        case BtfKind.DATASEC:
          t.secinfos = [];
          for (let i = 0; i < vlen; i++) {
            t.secinfos.push({
              typeId: view.getUint32(pos, true),
              offset: view.getUint32(pos + 4, true),
              size: view.getUint32(pos + 8, true),
            });
            pos += 12;
          }
          break;
        default:
          break; // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG: no trailer
      }
      this.types.push(t);
    }
  }

  /** Reads the `.BTF` section of an ELF64 little-endian object file. */
  static fromObjectFile(path: string): Btf {
    return new Btf(elfSection(readFileSync(path), '.BTF', path));
  }

  find(kind: number, name: string): BtfType | undefined {
    return this.types.find((t) => t.kind === kind && t.name === name);
  }

  struct(name: string): BtfType {
    const t = this.find(BtfKind.STRUCT, name);
    if (!t) throw new Error(`struct ${name} not in BTF`);
    return t;
  }

  /** Byte size of a type, following typedefs and qualifiers. */
  sizeOf(typeId: number): number {
    const t = this.resolve(typeId);
    if (t.kind === BtfKind.ARRAY && t.array) return t.array.nelems * this.sizeOf(t.array.typeId);
    if (t.kind === BtfKind.PTR) return 8;
    return t.sizeOrType;
  }

  /** Skips typedefs and qualifiers. */
  resolve(typeId: number): BtfType {
    let t = this.types[typeId];
    while (
      t.kind === BtfKind.TYPEDEF || t.kind === BtfKind.VOLATILE || t.kind === BtfKind.CONST ||
      t.kind === BtfKind.RESTRICT || t.kind === BtfKind.TYPE_TAG
    ) {
      t = this.types[t.sizeOrType];
    }
    return t;
  }

  /**
   * Offset and size of a global variable inside a data section such as `.rodata`. The offset is
   * right only in BTF that libbpf finalized at open (libbpf().objectBtf): in an object file the
   * compiler leaves every offset 0.
   */
  variable(section: string, name: string): { offset: number; size: number } | undefined {
    const sec = this.find(BtfKind.DATASEC, section);
    for (const si of sec?.secinfos ?? []) {
      if (this.types[si.typeId].name === name) return { offset: si.offset, size: si.size };
    }
    return undefined;
  }
}

function elfSection(file: Buffer, name: string, path: string): Uint8Array {
  if (file.readUInt32BE(0) !== 0x7f454c46 || file[4] !== 2 || file[5] !== 1) {
    throw new Error(`${path}: not a 64-bit little-endian ELF file`);
  }
  const shoff = Number(file.readBigUInt64LE(0x28));
  const shentsize = file.readUInt16LE(0x3a);
  const shnum = file.readUInt16LE(0x3c);
  const shstrndx = file.readUInt16LE(0x3e);
  const header = (i: number) => shoff + i * shentsize;
  const strtabOff = Number(file.readBigUInt64LE(header(shstrndx) + 24));
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const nameOff = strtabOff + file.readUInt32LE(h);
    const end = file.indexOf(0, nameOff);
    if (file.toString('latin1', nameOff, end) !== name) continue;
    const off = Number(file.readBigUInt64LE(h + 24));
    const size = Number(file.readBigUInt64LE(h + 32));
    return file.subarray(off, off + size);
  }
  throw new Error(`${path}: no ${name} section (was it compiled with -g?)`);
}
