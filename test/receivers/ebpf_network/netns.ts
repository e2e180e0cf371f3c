/**
 * Network namespaces for the kernel tests: made by the test, joined by a veth pair whose ends
 * get .1 and .2 of a 10.x /24 the test chooses, and deleted afterwards (deleting a namespace
 * destroys the veth end inside it, and with it the other end).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ip = (...args: string[]) => run('ip', args);

let made = 0;

export interface VethLink {
  /** The namespace of each end; undefined for the host's own namespace. */
  namespaces: [string | undefined, string | undefined];
  /** The address of each end: `<subnet>.1` and `<subnet>.2`. */
  addresses: [string, string];
  /** The command prefix that runs a program at end `end` (`ip netns exec NAME`; nothing on the host). */
  exec(end: 0 | 1): string[];
  /** Deletes the namespaces (and so the veth pair). */
  remove(): Promise<void>;
}

/**
 * A veth pair between two new namespaces, or with `hostEnd` between the host's namespace (end 0)
 * and a new one (end 1). `subnet` is the first three octets of a 10.x /24 (`10.231.0`).
 */
export async function vethLink(subnet: string, hostEnd = false): Promise<VethLink> {
  if (!/^10\.\d{1,3}\.\d{1,3}$/.test(subnet)) throw new Error(`vethLink: ${subnet} is not the start of a 10.x /24`);
  const tag = `${process.pid % 100000}${String.fromCharCode(97 + (made++ % 26))}`;
  const namespaces: [string | undefined, string | undefined] = [hostEnd ? undefined : `netobs-a-${tag}`, `netobs-b-${tag}`];
  const devices = [`nobA${tag}`, `nobB${tag}`];
  const addresses: [string, string] = [`${subnet}.1`, `${subnet}.2`];
  const remove = async (): Promise<void> => {
    for (const ns of namespaces) if (ns) await ip('netns', 'del', ns).catch(() => undefined);
    if (hostEnd) await ip('link', 'del', devices[0]).catch(() => undefined);
  };
  try {
    for (const ns of namespaces) if (ns) await ip('netns', 'add', ns);
    await ip('link', 'add', devices[0], 'type', 'veth', 'peer', 'name', devices[1]);
    for (const end of [0, 1]) {
      const ns = namespaces[end];
      const at = ns ? ['-n', ns] : [];
      if (ns) await ip('link', 'set', devices[end], 'netns', ns);
      await ip(...at, 'addr', 'add', `${addresses[end]}/24`, 'dev', devices[end]);
      await ip(...at, 'link', 'set', devices[end], 'up');
      if (ns) await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    namespaces,
    addresses,
    exec: (end) => (namespaces[end] ? ['ip', 'netns', 'exec', namespaces[end]!] : []),
    remove,
  };
}
