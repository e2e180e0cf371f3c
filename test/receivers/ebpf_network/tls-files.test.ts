/**
 * Finding OpenSSL copies and attaching per file, without the kernel: the ELF symbol reader on
 * real files (the node binary carries OpenSSL), the per-file cache, and TlsUprobes' limit,
 * failure and shutdown handling with a fake attacher.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfError, exportedFunctionOffsets } from '../../../receivers/ebpf_network/tls/elf-symbols';
import { OpensslFileCache, opensslCandidatesOf, SSL_FUNCTIONS } from '../../../receivers/ebpf_network/tls/openssl-files';
import { TlsUprobes, type UprobeAttacher } from '../../../receivers/ebpf_network/tls/tls-uprobes';

const NODE = realpathSync(process.execPath);

/** `nm -D` of a file as name -> symbol value, or undefined when binutils is not installed. */
function nmValues(path: string): Map<string, number> | undefined {
  const r = spawnSync('nm', ['-D', '--defined-only', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) return undefined;
  const out = new Map<string, number>();
  for (const line of r.stdout.split('\n')) {
    const [value, , name] = line.split(' ');
    if (name) out.set(name.replace(/@.*$/, ''), parseInt(value, 16));
  }
  return out;
}

class FakeAttacher implements UprobeAttacher<number> {
  attached = new Set<number>();
  calls: Array<{ name: string; retprobe: boolean; path: string; offset: number }> = [];
  /** Fail the fourth attach to this path (halfway through a file). */
  failOn: string | undefined;
  private next = 1;

  attachUprobe(name: string, retprobe: boolean, path: string, offset: number): number {
    this.calls.push({ name, retprobe, path, offset });
    if (path === this.failOn && this.calls.filter((c) => c.path === path).length === 4) throw new Error(`attaching ${name}: EINVAL`);
    const link = this.next++;
    this.attached.add(link);
    return link;
  }

  detachUprobe(link: number): void {
    assert.ok(this.attached.delete(link), `link ${link} detached once`);
  }
}

describe('ebpf_network OpenSSL discovery', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'no-tls-files-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file offsets of the SSL functions node exports, as nm places them', () => {
    const offsets = exportedFunctionOffsets(NODE, SSL_FUNCTIONS);
    assert.deepEqual([...offsets.keys()].sort(), [...SSL_FUNCTIONS].sort());
    assert.equal(new Set(offsets.values()).size, 4, 'four distinct functions');
    const nm = nmValues(NODE);
    if (nm) {
      // A non-PIE executable or a library: the offset is the value less one constant (segment vaddr - offset).
      const deltas = new Set([...offsets].map(([name, off]) => nm.get(name)! - off));
      assert.equal(deltas.size, 1, `one segment shift for all: ${[...deltas]}`);
    }
  });

  it('finds nothing in an executable without OpenSSL and rejects files that are not ELF', () => {
    assert.equal(exportedFunctionOffsets(realpathSync('/bin/sleep'), SSL_FUNCTIONS).size, 0);
    const text = join(dir, 'not-elf.so');
    writeFileSync(text, 'just text, long enough to have a header of sixty-four bytes in it.......');
    assert.throws(() => exportedFunctionOffsets(text, SSL_FUNCTIONS), ElfError);
    writeFileSync(join(dir, 'short'), '\x7fELF');
    assert.throws(() => exportedFunctionOffsets(join(dir, 'short'), SSL_FUNCTIONS), ElfError);
  });

  it('examines each file once, and says why a configured file cannot be probed', () => {
    const cache = new OpensslFileCache();
    const self = cache.examine(`/proc/${process.pid}/exe`, NODE, 'executable', process.pid);
    assert.ok(self && 'offsets' in self, 'node carries OpenSSL');
    const again = cache.examine(NODE, NODE, 'configured', 0);
    assert.ok(again && 'offsets' in again);
    assert.equal(again.key, self.key, 'the same file through another path');
    assert.equal(again.openPath, NODE, 'opened through the path it was seen by last');
    assert.equal(cache.size, 1);
    assert.equal(cache.examine('/bin/sleep', '/bin/sleep', 'executable', 1), null, 'an executable without OpenSSL is simply not one');
    const rejected = cache.examine('/bin/sleep', '/bin/sleep', 'configured', 0);
    assert.equal(rejected, null, 'cached as not OpenSSL');
    const missing = cache.examine(join(dir, 'nope.so'), join(dir, 'nope.so'), 'configured', 0);
    assert.ok(missing && 'reason' in missing && /ENOENT/.test(missing.reason), 'a missing configured path says so');
    const text = join(dir, 'libssl.so.3');
    writeFileSync(text, 'x'.repeat(100));
    const bad = cache.examine(text, text, 'configured', 0);
    assert.ok(bad && 'reason' in bad && /not an ELF file/.test(bad.reason));
  });

  it("lists a process's executable (and its libssl files)", () => {
    const mine = opensslCandidatesOf(process.pid);
    assert.ok(mine.some((c) => c.kind === 'executable' && c.path === NODE && c.openPath === `/proc/${process.pid}/exe`));
    assert.deepEqual(opensslCandidatesOf(999_999_999), [], 'a process that does not exist');
  });
});

describe('ebpf_network TlsUprobes', () => {
  it('attaches an entry and a return probe per exported function of each file, up to tls_max_files', () => {
    const attacher = new FakeAttacher();
    const tls = new TlsUprobes(attacher, { paths: [NODE], rescanIntervalMs: 0, maxFiles: 1 });
    tls.start();
    const status = tls.status();
    const node = status.find((f) => f.path === NODE);
    assert.ok(node?.attached, 'the configured file comes first and takes the one slot');
    assert.equal(tls.attachedFiles(), 1);
    assert.equal(attacher.attached.size, 8, 'four functions, entry and return each');
    assert.deepEqual(attacher.calls.filter((c) => c.retprobe).map((c) => c.name), ['on_ssl_return', 'on_ssl_return', 'on_ssl_return', 'on_ssl_return']);
    const others = status.filter((f) => f !== node && f.functions.length > 0);
    for (const f of others) assert.match(f.error ?? '', /tls_max_files \(1\)/);
    assert.equal(tls.counters.overLimit, others.length);
    tls.rescan();
    assert.equal(attacher.attached.size, 8, 'a rescan attaches nothing twice');
    tls.shutdown();
    assert.equal(attacher.attached.size, 0, 'shutdown detaches everything');
    tls.shutdown();
  });

  it('undoes a file whose attach fails halfway, records why, and goes on', () => {
    const attacher = new FakeAttacher();
    attacher.failOn = NODE;
    const tls = new TlsUprobes(attacher, { paths: [NODE], rescanIntervalMs: 0, maxFiles: 64 });
    tls.start();
    const node = tls.status().find((f) => f.path === NODE);
    assert.equal(node?.attached, false);
    assert.match(node?.error ?? '', /EINVAL/);
    assert.equal(tls.counters.attachFailures, 1);
    for (const f of tls.status()) if (!f.attached) assert.ok(f.error);
    tls.shutdown();
    assert.equal(attacher.attached.size, 0);
  });
});
