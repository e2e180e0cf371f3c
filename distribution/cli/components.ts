/** `network-observer components`: every registered type with its stability and description. */
import type { ComponentKind } from '../../core/component';
import { createRegistry, loadConfigFile } from '../../core/config/load';
import { builtinFactories } from '../components';
import type { ComponentRegistry } from '../../core/registry';

export function listComponents(configPath?: string): string {
  const registry: ComponentRegistry = configPath ? loadConfigFile(configPath, { builtins: builtinFactories }).registry : createRegistry(builtinFactories);
  const lines: string[] = [];
  for (const kind of ['receiver', 'processor', 'exporter'] as ComponentKind[]) {
    lines.push(`${kind}s:`);
    const entries = registry.list(kind);
    if (entries.length === 0) lines.push('  (none)');
    const width = Math.max(0, ...entries.map((e) => e.factory.type.length));
    for (const { factory, origin } of entries) {
      const from = origin === 'builtin' ? '' : `  [${origin}]`;
      const former = factory.formerTypes?.length ? `  (formerly ${factory.formerTypes.join(', ')}, still accepted)` : '';
      lines.push(`  ${factory.type.padEnd(width)}  ${factory.stability.padEnd(11)}  ${factory.description}${former}${from}`);
    }
  }
  return lines.join('\n');
}
