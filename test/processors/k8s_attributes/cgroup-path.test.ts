import assert from 'node:assert/strict';
import { parseCgroupPath, parseProcCgroup, unifiedPath } from '../../../processors/k8s_attributes/cgroup-path';
import { cgroup2MountFrom } from '../../../processors/k8s_attributes/mounts';

const CID = '3f1c9e0d2b7a4c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6';
const UID = '8d5a2f4e-8b6c-4c1e-9b1a-2f3e4d5c6b7a';
const UID_ = UID.replace(/-/g, '_');

describe('k8s_attributes cgroup path parser', () => {
  const cases: Array<[string, string, { containerId: string; podUid: string } | undefined]> = [
    ['containerd, systemd driver (GKE, EKS, AKS)',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${CID}.scope`,
      { containerId: CID, podUid: UID }],
    ['cri-o, systemd driver (OpenShift)',
      `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/crio-${CID}.scope`,
      { containerId: CID, podUid: UID }],
    ['cri-o conmon is the pod\'s, not a container',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-conmon-${CID}.scope`,
      { containerId: '', podUid: UID }],
    ['docker (cri-dockerd), systemd driver, Guaranteed QoS directly under kubepods.slice',
      `0::/kubepods.slice/kubepods-pod${UID_}.slice/docker-${CID}.scope`,
      { containerId: CID, podUid: UID }],
    ['cgroupfs driver (k3s, kind, containerd default)', `0::/kubepods/burstable/pod${UID}/${CID}`, { containerId: CID, podUid: UID }],
    ['cgroupfs driver, BestEffort', `0::/kubepods/besteffort/pod${UID}/${CID}`, { containerId: CID, podUid: UID }],
    ['cgroupfs driver, Guaranteed', `0::/kubepods/pod${UID}/${CID}`, { containerId: CID, podUid: UID }],
    ['kind node (nested kubelet.slice)',
      `0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${UID_}.slice/cri-containerd-${CID}.scope`,
      { containerId: CID, podUid: UID }],
    ['containerd with a systemd-style cgroupsPath under its own service',
      `0::/system.slice/containerd.service/kubepods-burstable-pod${UID_}.slice:cri-containerd:${CID}`,
      { containerId: CID, podUid: UID }],
    ['the pod\'s own slice', `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice`, { containerId: '', podUid: UID }],
    ['a static pod, named by its 32-hex config hash',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1d3c4e6f8a9b0c1d2e3f4a5b6c7d8e9f.slice/cri-containerd-${CID}.scope`,
      { containerId: CID, podUid: '1d3c4e6f8a9b0c1d2e3f4a5b6c7d8e9f' }],
    ['plain docker, systemd driver', `0::/system.slice/docker-${CID}.scope`, { containerId: CID, podUid: '' }],
    ['plain docker, cgroup v1', `4:memory:/docker/${CID}`, { containerId: CID, podUid: '' }],
    ['rootless podman (a /container leaf below the scope)',
      `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${CID}.scope/container`,
      { containerId: CID, podUid: '' }],
    ['seen from inside another cgroup namespace', `0::/../../kubepods-besteffort-pod${UID_}.slice/cri-containerd-${CID}.scope`, { containerId: CID, podUid: UID }],
    ['a login session', '0::/user.slice/user-1000.slice/session-3.scope', undefined],
    ['a system service', '0::/system.slice/sshd.service', undefined],
    ['the root cgroup', '0::/', undefined],
    ['a 32-hex sandbox cgroup that is not a pod (this machine)', '4:memory:/process_api/55ef9b33a50e113f72d4b8fa9ecc9e5a', undefined],
    ['a 63-hex id is not a container id', `0::/kubepods/burstable/pod${UID}/${CID.slice(1)}`, { containerId: '', podUid: UID }],
  ];

  for (const [name, line, expected] of cases) {
    it(name, () => {
      assert.deepEqual(parseProcCgroup(`${line}\n`), expected);
    });
  }

  it('prefers a line naming container and pod on a cgroup v1/v2 hybrid host', () => {
    const text = [
      `12:hugetlb:/kubepods/burstable/pod${UID}/${CID}`,
      `11:memory:/kubepods/burstable/pod${UID}/${CID}`,
      `10:cpu,cpuacct:/kubepods/burstable/pod${UID}/${CID}`,
      `1:name=systemd:/kubepods/burstable/pod${UID}/${CID}`,
      '0::/',
      '',
    ].join('\n');
    assert.deepEqual(parseProcCgroup(text), { containerId: CID, podUid: UID });
  });

  it('takes the container from any hierarchy when only some name it', () => {
    const text = ['3:cpuset:/', `2:memory:/kubepods/pod${UID}`, `1:name=systemd:/kubepods/pod${UID}/${CID}`, '0::/'].join('\n');
    assert.deepEqual(parseProcCgroup(text), { containerId: CID, podUid: UID });
  });

  it('never throws on malformed input', () => {
    for (const text of ['', '\n\n', 'garbage', '0:', '0::', '::::', ':'.repeat(10_000), `0::${'/a'.repeat(50_000)}`, '\u0000\u00ff']) {
      assert.doesNotThrow(() => parseProcCgroup(text));
      assert.doesNotThrow(() => parseCgroupPath(text));
    }
    assert.equal(parseProcCgroup('0::'), undefined);
  });

  it('finds the unified path', () => {
    assert.equal(unifiedPath('0::/a/b\n'), '/a/b');
    assert.equal(unifiedPath('4:memory:/x\n0::/kubepods/y\n'), '/kubepods/y');
    assert.equal(unifiedPath('4:memory:/x\n'), undefined);
  });
});

describe('k8s_attributes cgroup2 mount lookup', () => {
  it('finds the cgroup2 mount of a hybrid host (this machine\'s layout)', () => {
    const mounts = [
      'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
      'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
    ].join('\n');
    assert.equal(cgroup2MountFrom(mounts), '/sys/fs/cgroup/unified');
  });

  it('finds a unified-only host\'s mount and unescapes paths', () => {
    assert.equal(cgroup2MountFrom('cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n'), '/sys/fs/cgroup');
    assert.equal(cgroup2MountFrom('cgroup2 /host\\040root/cgroup cgroup2 rw 0 0\n'), '/host root/cgroup');
    assert.equal(cgroup2MountFrom('cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\n'), undefined);
  });
});
