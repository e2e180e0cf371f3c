/**
 * The OTLP/HTTP receiver of otlp-receiver.ts as a process of its own, for tests in which the
 * collector's end of an export must be another process's socket (the kernel tests of the
 * observer's own traffic). `node -r tsx/cjs otlp-receiver-process.ts HOST` listens on a free
 * port of HOST and prints {"event":"listening","port":N,"pid":P}; each stdin line prints
 * {"event":"received",...} with what has arrived so far (ReceivedSummary); it exits when stdin ends.
 */
import { createInterface } from 'node:readline';
import { attrs, OtlpReceiver } from './otlp-receiver';

export interface ReceivedSummary {
  requests: Array<{ path: string; userAgent: string }>;
  spans: Array<{ name: string; kind: number; attrs: Record<string, unknown> }>;
  logs: Array<{ body: unknown; attrs: Record<string, unknown> }>;
  dataPoints: Array<{ metric: string; attrs: Record<string, unknown> }>;
}

function summary(r: OtlpReceiver): ReceivedSummary {
  return {
    requests: r.requests.map((q) => ({ path: q.path, userAgent: String(q.headers['user-agent'] ?? '') })),
    spans: r.spans().map((s) => ({ name: s.name, kind: s.kind, attrs: s.attrs })),
    logs: r.logs().map((l) => ({ body: l.body.stringValue, attrs: l.attrs })),
    dataPoints: r.metrics().flatMap((m) =>
      [...(m.sum?.dataPoints ?? []), ...(m.gauge?.dataPoints ?? []), ...(m.histogram?.dataPoints ?? [])].map((d) => ({ metric: m.name, attrs: attrs(d.attributes) })),
    ),
  };
}

async function main(host: string): Promise<void> {
  const receiver = await new OtlpReceiver().start(0, host);
  const say = (obj: object) => process.stdout.write(`${JSON.stringify({ pid: process.pid, ...obj })}\n`);
  say({ event: 'listening', port: Number(new URL(receiver.url).port) });
  createInterface({ input: process.stdin })
    .on('line', () => say({ event: 'received', ...summary(receiver) }))
    .on('close', () => void receiver.stop().then(() => process.exit(0)));
}

main(process.argv[2] ?? '127.0.0.1').catch((error: Error) => {
  process.stderr.write(`otlp-receiver-process: ${error.message}\n`);
  process.exit(1);
});
