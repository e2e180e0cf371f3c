/**
 * Factories that ship with the product. They are registered through the same public API as
 * plugin factories; nothing here gets a private shortcut.
 */
import type { Factory } from './component';

export function builtinFactories(): Factory[] {
  // Each component module is required lazily so a broken optional component (e.g. a missing
  // native library for eBPF) cannot stop `validate` or `components` from working.
  return [
  ];
}
