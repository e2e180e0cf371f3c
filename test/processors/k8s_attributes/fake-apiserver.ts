/**
 * A real HTTP server on 127.0.0.1 speaking the part of the Kubernetes API the processor uses:
 * list (with resourceVersion, fieldSelector spec.nodeName=, limit/continue paging) and watch
 * (a chunked stream of JSON lines, replaying from a resourceVersion, 410 after compaction,
 * bookmarks, timeoutSeconds) for pods and services, and GET of one ReplicaSet.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Resource = 'pods' | 'services';
type KubeObject = { metadata: { name: string; namespace?: string; uid: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

interface HistoryEntry {
  rv: number;
  resource: Resource;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface Watcher {
  resource: Resource;
  nodeName: string | undefined;
  res: ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  userAgent: string | undefined;
}

export class FakeApiServer {
  private server: Server | undefined;
  private rv = 1000;
  private readonly objects: Record<Resource, Map<string, KubeObject>> = { pods: new Map(), services: new Map() };
  private readonly replicaSets = new Map<string, KubeObject>();
  private history: HistoryEntry[] = [];
  /** Watches from a resourceVersion below this get 410 Gone. */
  private compactedBelow = 0;
  private readonly watchers = new Set<Watcher>();
  readonly requests: RecordedRequest[] = [];
  /** When set, every request is answered with this HTTP status and a Status body. */
  failWith: number | undefined;
  /** Requests whose path starts with a key are answered with that HTTP status. */
  readonly failPaths = new Map<string, number>();
  /** Watch (or list) requests are accepted and then never answered (a black-holed API server). */
  hangWatches = false;
  hangLists = false;

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Open watch streams, per resource. */
  openWatches(resource: Resource): number {
    return [...this.watchers].filter((w) => w.resource === resource).length;
  }

  requestsTo(pathPrefix: string, watch?: boolean): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(pathPrefix) && (watch === undefined || (r.query.get('watch') === 'true') === watch));
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) this.endWatch(w);
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  add(resource: Resource, object: KubeObject): void {
    this.change(resource, this.objects[resource].has(object.metadata.uid) ? 'MODIFIED' : 'ADDED', object);
  }

  remove(resource: Resource, uid: string): void {
    const current = this.objects[resource].get(uid);
    if (current) this.change(resource, 'DELETED', current);
  }

  addReplicaSet(rs: KubeObject): void {
    this.replicaSets.set(`${rs.metadata.namespace}/${rs.metadata.name}`, rs);
  }

  /** Forgets history, as etcd compaction does: watches from older versions get 410. */
  compact(): void {
    this.compactedBelow = this.rv + 1;
    this.history = [];
  }

  /** Ends every open watch stream from the server side (as the API server does on timeout). */
  closeWatches(): void {
    for (const w of this.watchers) this.endWatch(w);
  }

  private change(resource: Resource, type: HistoryEntry['type'], object: KubeObject): void {
    const rv = ++this.rv;
    const stored: KubeObject = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    if (type === 'DELETED') this.objects[resource].delete(object.metadata.uid);
    else this.objects[resource].set(object.metadata.uid, stored);
    const entry: HistoryEntry = { rv, resource, type, object: stored };
    this.history.push(entry);
    for (const w of this.watchers) if (w.resource === resource && matchesNode(stored, w.nodeName)) send(w.res, entry);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, userAgent: req.headers['user-agent'] });
    if (this.failWith !== undefined) return status(res, this.failWith, 'injected failure');
    for (const [prefix, code] of this.failPaths) if (url.pathname.startsWith(prefix)) return status(res, code, 'injected failure');
    const isWatch = url.searchParams.get('watch') === 'true';
    if ((this.hangWatches && isWatch) || (this.hangLists && !isWatch)) return;
    const rs = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets\/([^/]+)$/.exec(url.pathname);
    if (rs) {
      const found = this.replicaSets.get(`${rs[1]}/${rs[2]}`);
      return found ? json(res, 200, { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...found }) : status(res, 404, `replicasets.apps "${rs[2]}" not found`);
    }
    const resource: Resource | undefined = url.pathname === '/api/v1/pods' ? 'pods' : url.pathname === '/api/v1/services' ? 'services' : undefined;
    if (!resource) return status(res, 404, `no route for ${url.pathname}`);
    const selector = url.searchParams.get('fieldSelector');
    let nodeName: string | undefined;
    if (selector) {
      const m = /^spec\.nodeName=(.+)$/.exec(selector);
      if (!m) return status(res, 400, `unsupported field selector ${selector}`);
      nodeName = m[1];
    }
    if (url.searchParams.get('watch') === 'true') return this.watch(resource, nodeName, url.searchParams, res);
    return this.list(resource, nodeName, url.searchParams, res);
  }

  private list(resource: Resource, nodeName: string | undefined, query: URLSearchParams, res: ServerResponse): void {
    const all = [...this.objects[resource].values()].filter((o) => matchesNode(o, nodeName));
    const offset = Number(query.get('continue') || 0);
    const limit = Number(query.get('limit') || 0) || all.length;
    const items = all.slice(offset, offset + limit);
    const more = offset + limit < all.length;
    json(res, 200, {
      kind: resource === 'pods' ? 'PodList' : 'ServiceList',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(this.rv), ...(more ? { continue: String(offset + limit) } : {}) },
      items,
    });
  }

  private watch(resource: Resource, nodeName: string | undefined, query: URLSearchParams, res: ServerResponse): void {
    const from = Number(query.get('resourceVersion') || 0);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    if (from < this.compactedBelow) {
      res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 } }) + '\n');
      return;
    }
    const watcher: Watcher = { resource, nodeName, res, timer: undefined };
    const timeout = Number(query.get('timeoutSeconds') || 0);
    if (timeout > 0) watcher.timer = setTimeout(() => this.endWatch(watcher), timeout * 1000);
    this.watchers.add(watcher);
    res.on('close', () => this.endWatch(watcher));
    for (const entry of this.history) if (entry.resource === resource && entry.rv > from && matchesNode(entry.object, nodeName)) send(res, entry);
    if (query.get('allowWatchBookmarks') === 'true') {
      res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: resource === 'pods' ? 'Pod' : 'Service', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } }) + '\n');
    }
  }

  private endWatch(w: Watcher): void {
    if (!this.watchers.delete(w)) return;
    clearTimeout(w.timer);
    if (!w.res.writableEnded) w.res.end();
  }
}

function matchesNode(object: KubeObject, nodeName: string | undefined): boolean {
  if (nodeName === undefined) return true;
  return (object.spec as { nodeName?: string } | undefined)?.nodeName === nodeName;
}

function send(res: ServerResponse, entry: HistoryEntry): void {
  res.write(JSON.stringify({ type: entry.type, object: entry.object }) + '\n');
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function status(res: ServerResponse, code: number, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code });
}

/** A kubeconfig pointing at `server` over plain HTTP (which the client allows only with TLS verification off). */
export function kubeconfigFor(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: tester',
    '  user:',
    '    token: test-token',
    'contexts:',
    '- name: fake',
    '  context:',
    '    cluster: fake',
    '    user: tester',
    'current-context: fake',
    '',
  ].join('\n');
}
