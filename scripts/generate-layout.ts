/** `npm run gen:layout`: writes receivers/ebpf_network/layout.generated.ts from bpf/net.bpf.o. */
import { writeFileSync } from 'node:fs';
import { generateLayout, LAYOUT_FILE } from './bpf-layout';

writeFileSync(LAYOUT_FILE, generateLayout());
console.log(`wrote ${LAYOUT_FILE}`);
