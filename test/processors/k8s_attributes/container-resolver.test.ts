import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerResolver } from '../../../processors/k8s_attributes/container-resolver';
import { findCgroup2Mount } from '../../../processors/k8s_attributes/mounts';
import { HostTree, containerId, systemdContainerdPath } from './host-tree';

const UID_A = 'aaaaaaaa-1111-2222-3333-444444444444';
const UID_B = 'bbbbbbbb-1111-2222-3333-444444444444';
const CID_A = containerId('container-a');
const CID_B = containerId('container-b');

describe('k8s_attributes container resolver on a host tree', () => {
  let host: HostTree;
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    host = new HostTree();
    now = 1_000_000;
  });
  afterEach(() => host.cleanup());

  const resolver = (cacheSize = 64) => new ContainerResolver({ procPath: host.proc, cgroupRoot: host.cgroup, cacheSize, now: clock, pidTtlMs: 30_000, walkIntervalMs: 1000 });

  it('maps a pid to its container and reads /proc once per pid', () => {
    const id = host.addProcess(100, systemdContainerdPath(UID_A, CID_A));
    const r = resolver();
    assert.deepEqual(r.resolve(100, id), { containerId: CID_A, podUid: UID_A });
    assert.deepEqual(r.resolve(100, id), { containerId: CID_A, podUid: UID_A });
    assert.deepEqual(r.resolve(100, 0), { containerId: CID_A, podUid: UID_A });
    assert.equal(r.procReads, 1);
    assert.equal(r.byCgroup.size, 1, 'the verified cgroup id is remembered too');
  });

  it('caches processes outside containers as such', () => {
    const id = host.addProcess(200, '/system.slice/sshd.service');
    const r = resolver();
    assert.equal(r.resolve(200, id), undefined);
    assert.equal(r.resolve(200, id), undefined);
    assert.equal(r.procReads, 1);
  });

  it('keeps both caches within cache_size', () => {
    const r = resolver(16);
    for (let pid = 1000; pid < 1040; pid++) {
      const id = host.addProcess(pid, systemdContainerdPath(UID_A, containerId(`c${pid}`)));
      assert.equal(r.resolve(pid, id)?.podUid, UID_A);
    }
    assert.equal(r.byPid.size, 16);
    assert.equal(r.byCgroup.size, 16);
    assert.equal(r.byPid.evictions, 24);
  });

  it('re-reads a pid after its TTL (pids are reused)', () => {
    const r = resolver();
    host.addProcess(300, systemdContainerdPath(UID_A, CID_A));
    assert.equal(r.resolve(300, 0)?.containerId, CID_A);
    host.addProcess(300, systemdContainerdPath(UID_B, CID_B)); // the pid now belongs to another container
    now += 29_000;
    assert.equal(r.resolve(300, 0)?.containerId, CID_A, 'trusted within the TTL');
    now += 2_000;
    assert.equal(r.resolve(300, 0)?.containerId, CID_B);
  });

  it('does not believe a reused pid over the event\'s cgroup id', async () => {
    const r = resolver();
    const idA = host.addCgroup(systemdContainerdPath(UID_A, CID_A));
    host.addProcess(400, systemdContainerdPath(UID_B, CID_B));
    // The event says cgroup A; pid 400 is now in B. The cgroup id wins (via the tree walk).
    assert.equal(r.resolve(400, idA), undefined, 'unknown until the walk finished');
    await r.walker!.idle();
    assert.deepEqual(r.resolve(400, idA), { containerId: CID_A, podUid: UID_A });
  });

  it('maps the cgroup id of a process that is gone through one background walk', async () => {
    const r = resolver();
    const id = host.addProcess(500, `/kubepods/burstable/pod${UID_A}/${CID_A}`);
    const other = host.addCgroup('/system.slice/cron.service');
    host.removeProcess(500);
    r.start();
    await r.walker!.idle();
    assert.equal(r.walker!.walks, 1);
    assert.deepEqual(r.resolve(500, id), { containerId: CID_A, podUid: UID_A });
    assert.equal(r.resolve(0, other), undefined, 'a known non-container cgroup');
    // A cgroup created after the walk: unknown now, a new walk is requested (rate-limited).
    const late = host.addCgroup(systemdContainerdPath(UID_B, CID_B));
    assert.equal(r.resolve(0, late), undefined);
    await r.walker!.idle();
    assert.equal(r.walker!.walks, 1, 'no second walk within walk interval');
    now += 1000;
    assert.equal(r.resolve(0, late), undefined);
    await r.walker!.idle();
    assert.equal(r.walker!.walks, 2);
    assert.deepEqual(r.resolve(0, late), { containerId: CID_B, podUid: UID_B });
    await r.stop();
  });

  it('remembers at most cache_size container cgroups from a walk', async () => {
    const r = resolver(16);
    for (let i = 0; i < 20; i++) host.addCgroup(systemdContainerdPath(UID_A, containerId(`w${i}`)));
    r.start();
    await r.walker!.idle();
    assert.equal(r.walker!.size, 16);
    assert.equal(r.walker!.truncated, 4);
  });

  it('trusts /proc paths relative to another cgroup namespace without addressing the host tree with them', () => {
    const r = resolver();
    host.addCgroup(`/kubepods/pod${UID_A}/${CID_A}`);
    host.addProcess(700, '/unrelated');
    writeFileSync(join(host.proc, '700', 'cgroup'), `0::/../../kubepods/pod${UID_A}/${CID_A}\n`);
    assert.deepEqual(r.resolve(700, 4242), { containerId: CID_A, podUid: UID_A });
    assert.equal(r.byCgroup.size, 0, 'not verified, so not remembered by cgroup id');
  });

  it('works without a cgroup2 mount (pids only)', () => {
    const r = new ContainerResolver({ procPath: host.proc, cgroupRoot: undefined, cacheSize: 16 });
    host.addProcess(600, `/kubepods/pod${UID_A}/${CID_A}`, [`4:memory:/kubepods/pod${UID_A}/${CID_A}`]);
    assert.equal(r.walker, undefined);
    assert.equal(r.resolve(600, 12345)?.containerId, CID_A, 'the pid is trusted when the cgroup id cannot be checked');
    assert.equal(r.resolve(0, 12345), undefined);
  });
});

describe('k8s_attributes container resolver on this host\'s real cgroup2 tree', () => {
  const cgroupRoot = findCgroup2Mount('/proc');
  const base = cgroupRoot ? join(cgroupRoot, `k8s-attrs-test-${process.pid}`) : '';

  before(function () {
    const privileged = process.getuid?.() === 0 && cgroupRoot !== undefined;
    if (!privileged) {
      if (process.env.CI === 'true') throw new Error('CI=true: this test needs root and a cgroup2 mount');
      this.skip(); // needs root (to create cgroups and move a process) and a cgroup2 mount
    }
  });

  after(() => {
    if (!base || !existsSync(base)) return;
    // Leaf first: cgroup directories can only be removed when empty.
    const remove = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) remove(join(dir, entry.name));
      rmdirSync(dir);
    };
    remove(base);
  });

  it('resolves a process moved into a containerd-style cgroup, by pid and by the kernel\'s cgroup id', async () => {
    const rel = systemdContainerdPath(UID_A, CID_A);
    const dir = join(base, rel);
    mkdirSync(dir, { recursive: true });
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
      const cgroupId = Number(statSync(dir).ino);
      const r = new ContainerResolver({ procPath: '/proc', cgroupRoot, cacheSize: 64, walkIntervalMs: 0 });
      assert.deepEqual(r.resolve(child.pid!, cgroupId), { containerId: CID_A, podUid: UID_A });
      assert.equal(r.byCgroup.size, 1, 'the kernel\'s /proc path and the directory inode agree');
      // And once the process is gone, by the cgroup id alone through the walk.
      const fresh = new ContainerResolver({ procPath: '/proc', cgroupRoot, cacheSize: 4096, walkIntervalMs: 0 });
      assert.equal(fresh.resolve(0, cgroupId), undefined);
      await fresh.walker!.idle();
      assert.deepEqual(fresh.resolve(0, cgroupId), { containerId: CID_A, podUid: UID_A });
      await fresh.stop();
    } finally {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
