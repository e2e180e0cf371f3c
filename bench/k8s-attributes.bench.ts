/**
 * k8s_attributes costs: enrichment of warm events (cache hits, allocation judged by GCs in the
 * timed loop), a cache miss (reading /proc/<pid>/cgroup and stat'ing the cgroup), a walk of
 * this host's real cgroup2 tree, and the memory of a pod record.
 * Run: npx tsx bench/k8s-attributes.bench.ts (add node --expose-gc for the memory line).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { NetworkEvent } from '../core/events';
import { CgroupWalker } from '../processors/k8s_attributes/cgroup-walker';
import { ContainerResolver } from '../processors/k8s_attributes/container-resolver';
import { Enricher } from '../processors/k8s_attributes/enricher';
import { findCgroup2Mount } from '../processors/k8s_attributes/mounts';
import { keyFilter, toPodRecord, type PodRecord } from '../processors/k8s_attributes/pod';
import { PodStore } from '../processors/k8s_attributes/pod-store';

const PODS = 100;
const PROCS_PER_POD = 10;
const BATCH = 1000;
const BATCHES = 200;
const recordOptions = { labels: keyFilter(['app', 'app.kubernetes.io/*']), annotations: undefined, keepAllLabels: false };

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const uidOf = (p: number) => `${hex(p, 8)}-0000-4000-8000-${hex(p, 12)}`;
const cidOf = (p: number, c: number) => hex(p * 1000 + c, 64);

function podJson(p: number) {
  return {
    metadata: {
      name: `shop-${p}-7d9f8b6c5d-x${p}`, namespace: 'shop', uid: uidOf(p),
      labels: { app: `shop-${p}`, 'pod-template-hash': '7d9f8b6c5d', 'app.kubernetes.io/part-of': 'shop', team: 'payments' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(2000) },
      ownerReferences: [{ kind: 'ReplicaSet', name: `shop-${p}-7d9f8b6c5d`, controller: true }],
    },
    spec: { nodeName: 'node-a' },
    status: {
      podIP: `10.42.${p >> 8}.${p & 255}`,
      containerStatuses: Array.from({ length: PROCS_PER_POD }, (_, c) => ({ name: `c${c}`, containerID: `containerd://${cidOf(p, c)}` })),
    },
  };
}

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

async function main(): Promise<void> {
  // Memory of a slim pod record (the API object above is ~3 KB of JSON); measured first, on a quiet heap.
  let perPod = 'run with node --expose-gc';
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    const before = process.memoryUsage().heapUsed;
    const keep: PodRecord[] = [];
    for (let p = 0; p < 10_000; p++) keep.push(toPodRecord(podJson(p), recordOptions)!);
    gc();
    perPod = `${Math.round((process.memoryUsage().heapUsed - before) / keep.length)} bytes (10 containers, 3 labels kept)`;
  }

  const root = mkdtempSync(join(tmpdir(), 'k8s-attrs-bench-'));
  try {
    const proc = join(root, 'proc');
    const cgroup = join(root, 'cgroup');
    const store = new PodStore({ maxPods: 10_000, nodeName: 'node-a', extractOwner: true, extractService: false });
    const pids: number[] = [];
    for (let p = 0; p < PODS; p++) {
      store.upsertPod(toPodRecord(podJson(p), recordOptions)!);
      for (let c = 0; c < PROCS_PER_POD; c++) {
        const pid = 10_000 + p * PROCS_PER_POD + c;
        const path = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uidOf(p).replace(/-/g, '_')}.slice/cri-containerd-${cidOf(p, c)}.scope`;
        mkdirSync(join(cgroup, path), { recursive: true });
        mkdirSync(join(proc, String(pid)), { recursive: true });
        writeFileSync(join(proc, String(pid), 'cgroup'), `0::${path}\n`);
        pids.push(pid);
      }
    }
    const resolver = new ContainerResolver({ procPath: proc, cgroupRoot: cgroup, cacheSize: 16384 });

    // Cold: every process once (read + parse /proc/<pid>/cgroup, stat its cgroup directory).
    let t = performance.now();
    for (const pid of pids) resolver.resolve(pid, 0);
    const missUs = ((performance.now() - t) * 1000) / pids.length;

    const enricher = new Enricher(resolver, store, { nodeName: 'node-a', enrichPeer: true });
    const batches: NetworkEvent[][] = [];
    for (let b = 0; b < BATCHES; b++) {
      const batch: NetworkEvent[] = [];
      for (let i = 0; i < BATCH; i++) {
        const n = (b * BATCH + i) * 7919;
        const pid = pids[n % pids.length];
        batch.push({
          kind: 'connection.opened', transport: 'tcp', timeUs: 1.7e15 + n,
          process: { pid, tid: pid, comm: 'app', cgroupId: 0 },
          networkType: 'ipv4', localAddress: '10.42.0.1', localPort: 40000,
          remoteAddress: `10.42.0.${n % 200}`, remotePort: 8080, direction: 'outbound', socketCookie: n + 1, netnsId: 1,
        });
      }
      batches.push(batch);
    }
    enricher.process(batches[0]);
    gcs = 0;
    t = performance.now();
    for (const batch of batches) enricher.process(batch);
    const ms = performance.now() - t;
    const eventsPerSec = (BATCH * BATCHES) / (ms / 1000);

    // This host's real cgroup2 tree, walked the way exited processes are resolved.
    let walk = 'no cgroup2 mount';
    const mount = findCgroup2Mount('/proc');
    if (mount) {
      const walker = new CgroupWalker(mount, 16384, 0);
      t = performance.now();
      walker.request();
      await walker.idle();
      walk = `${(performance.now() - t).toFixed(1)} ms for ${mount}`;
    }

    console.log('k8s_attributes (shared 2-core machine; numbers vary with load)');
    console.log(`  enrich warm events (1000 processes, 100 pods, peers on): ${(eventsPerSec / 1e6).toFixed(2)} M events/s, ${gcs} GCs over ${BATCH * BATCHES} events`);
    console.log(`  cache miss (read /proc/<pid>/cgroup + stat): ${missUs.toFixed(1)} us per process`);
    console.log(`  cgroup tree walk: ${walk}`);
    console.log(`  pod record: ${perPod}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
