/**
 * Container identity from a cgroup path, as found in /proc/<pid>/cgroup or under the cgroup2
 * mount. Written by hand because no library covers the layouts kubelet and the container
 * runtimes produce; each one below is a real layout:
 *
 *   systemd driver   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/cri-containerd-<id>.scope
 *                    .../kubepods-pod<uid_>.slice/crio-<id>.scope, .../docker-<id>.scope
 *   kind/nested      /kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/...-pod<uid_>.slice/cri-containerd-<id>.scope
 *   cgroupfs driver  /kubepods/burstable/pod<uid>/<id>, /kubepods/pod<uid>/<id> (k3s, kind, EKS)
 *   containerd with the systemd driver but a cgroupfs-style path
 *                    /system.slice/containerd.service/kubepods-burstable-pod<uid_>.slice:cri-containerd:<id>
 *   plain docker     /docker/<id> (cgroup v1), /system.slice/docker-<id>.scope
 *   podman           /user.slice/.../libpod-<id>.scope/container
 *
 * Container ids are 64 lowercase hex digits. Pod UIDs are RFC 4122 UUIDs (systemd escapes '-'
 * as '_') or, for static pods, the 32-hex config hash.
 */

export interface CgroupIdentity {
  /** 64-hex container id; '' when the cgroup is not a container's (e.g. a pod's own slice). */
  readonly containerId: string;
  /** Pod UID with dashes (or a static pod's 32-hex hash); '' when not under a pod. */
  readonly podUid: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** `<runtime>-<id>.scope`; crio-conmon-<id> is the runtime's monitor, not the container. */
const SCOPE = /^(?:cri-containerd|docker|crio|libpod|cri-dockerd|containerd)-([0-9a-f]{64})\.scope$/;
/** `pod<uid>` (cgroupfs) or `...-pod<uid_>.slice` (systemd). */
const POD = /(?:^|-)pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})(?:\.slice)?$/;

/**
 * Identity from one cgroup path (relative to the cgroup root, '/'-separated). Returns undefined
 * when the path names neither a container nor a pod. Never throws.
 */
export function parseCgroupPath(path: string): CgroupIdentity | undefined {
  let containerId = '';
  let podUid = '';
  // Walk from the leaf: the innermost container segment wins (podman adds /container below
  // its scope), and the pod segment is the nearest one above it.
  let end = path.length;
  while (end > 0) {
    const start = path.lastIndexOf('/', end - 1);
    const segment = path.slice(start + 1, end);
    end = start < 0 ? 0 : start;
    if (segment.length === 0) continue;
    if (containerId === '' && podUid === '') {
      const id = containerIdOf(segment);
      if (id !== '') {
        containerId = id;
        // The slice:runtime:id form carries the pod in the same segment.
        const colon = segment.indexOf(':');
        if (colon > 0) podUid = podUidOf(segment.slice(0, colon));
        if (podUid !== '') break;
        continue;
      }
    }
    const uid = podUidOf(segment);
    if (uid !== '') {
      podUid = uid;
      break;
    }
  }
  if (containerId === '' && podUid === '') return undefined;
  return { containerId, podUid };
}

function containerIdOf(segment: string): string {
  if (segment.length === 64 && HEX64.test(segment)) return segment;
  const scope = SCOPE.exec(segment);
  if (scope) return scope[1];
  // <slice>:cri-containerd:<id> and <slice>:crio:<id> (systemd cgroupsPath notation).
  const colon = segment.lastIndexOf(':');
  if (colon > 0) {
    const id = segment.slice(colon + 1);
    if (id.length === 64 && HEX64.test(id)) return id;
  }
  return '';
}

function podUidOf(segment: string): string {
  const match = POD.exec(segment);
  return match ? match[1].replace(/_/g, '-') : '';
}

/**
 * Identity from the text of /proc/<pid>/cgroup. The cgroup v2 line (`0::<path>`) is preferred;
 * on hybrid v1 hosts every hierarchy is tried, so any line naming the container is enough.
 */
export function parseProcCgroup(text: string): CgroupIdentity | undefined {
  let best: CgroupIdentity | undefined;
  let from = 0;
  while (from < text.length) {
    let nl = text.indexOf('\n', from);
    if (nl < 0) nl = text.length;
    const line = text.slice(from, nl);
    from = nl + 1;
    // hierarchy-id:controllers:path; the path itself may contain ':' (slice:runtime:id).
    const first = line.indexOf(':');
    if (first < 0) continue;
    const second = line.indexOf(':', first + 1);
    if (second < 0) continue;
    const identity = parseCgroupPath(line.slice(second + 1));
    if (!identity) continue;
    if (identity.containerId !== '' && identity.podUid !== '') return identity;
    if (!best || (best.containerId === '' && identity.containerId !== '')) best = identity;
  }
  return best;
}

/** The cgroup v2 path of a /proc/<pid>/cgroup text (the `0::` line), or undefined on a v1-only host. */
export function unifiedPath(text: string): string | undefined {
  const at = text.startsWith('0::') ? 0 : text.indexOf('\n0::');
  if (at < 0) return undefined;
  const start = at === 0 ? 3 : at + 4;
  const nl = text.indexOf('\n', start);
  return text.slice(start, nl < 0 ? text.length : nl);
}
