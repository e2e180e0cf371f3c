/** Finding the cgroup v2 mount from a mounts table, never by a hard-coded path. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The mount point of the first cgroup2 filesystem in a /proc/mounts text, or undefined. */
export function cgroup2MountFrom(mountsText: string): string | undefined {
  for (const line of mountsText.split('\n')) {
    const fields = line.split(' ');
    if (fields.length >= 3 && fields[2] === 'cgroup2') return unescapeMountPath(fields[1]);
  }
  return undefined;
}

/** Octal escapes the kernel writes for space, tab, newline and backslash in mount paths. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * The cgroup2 mount as this process sees it (`<procPath>/mounts`, which is the reader's own
 * mount table). Returns undefined when there is none or the table cannot be read.
 */
export function findCgroup2Mount(procPath: string): string | undefined {
  try {
    return cgroup2MountFrom(readFileSync(join(procPath, 'mounts'), 'utf8'));
  } catch {
    return undefined;
  }
}
