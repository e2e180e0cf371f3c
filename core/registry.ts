/**
 * Where factories live. Factories are registered in a tsyringe container per kind (token
 * `factory:<kind>`), and each component instance gets its own child container holding its
 * settings, so shared services registered on the root are visible to every component while
 * per-instance values never leak between them. The services every component can resolve, built
 * in or plugin alike: the registry (COMPONENT_REGISTRY_TOKEN), the clock (CLOCK_TOKEN, also
 * `settings.clock`) and its settings (SETTINGS_TOKEN).
 */
import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { clockFrom } from './clock';
import type { ComponentKind, ComponentSettings, Factory } from './component';

export const SETTINGS_TOKEN = 'component:settings';
/** tsyringe token of the ComponentRegistry itself, for components that look factories up. */
export const COMPONENT_REGISTRY_TOKEN = 'network-observer:component-registry';
const factoryToken = (kind: ComponentKind): string => `factory:${kind}`;

export interface RegisteredFactory {
  factory: Factory;
  /** 'builtin' or the plugin module that provided it. */
  origin: string;
}

export class ComponentRegistry {
  readonly container: DependencyContainer;
  private readonly origins = new Map<Factory, string>();

  constructor(parent: DependencyContainer = rootContainer) {
    this.container = parent.createChildContainer();
    this.container.register(COMPONENT_REGISTRY_TOKEN, { useValue: this });
  }

  /** Throws when the kind/type pair is taken: two factories for one type would be ambiguous. */
  register(factory: Factory, origin: string): void {
    const existing = this.list(factory.kind).find((r) => r.factory.type === factory.type)?.factory;
    if (existing) {
      throw new Error(`${factory.kind} type "${factory.type}" is already registered by ${this.origins.get(existing)}`);
    }
    this.container.register(factoryToken(factory.kind), { useValue: factory });
    this.origins.set(factory, origin);
  }

  list(kind: ComponentKind): RegisteredFactory[] {
    if (!this.container.isRegistered(factoryToken(kind))) return [];
    return this.container
      .resolveAll<Factory>(factoryToken(kind))
      .map((factory) => ({ factory, origin: this.origins.get(factory) ?? 'unknown' }))
      .sort((a, b) => a.factory.type.localeCompare(b.factory.type));
  }

  /** The factory of `type`; else the one renamed from it (its `formerTypes`). */
  lookup(kind: ComponentKind, type: string): Factory | undefined {
    const entries = this.list(kind);
    return (entries.find((r) => r.factory.type === type) ?? entries.find((r) => r.factory.formerTypes?.includes(type)))?.factory;
  }

  types(kind: ComponentKind): string[] {
    return this.list(kind).map((r) => r.factory.type);
  }

  /** A child container for one component instance, holding its settings. */
  instanceContainer(settings: Omit<ComponentSettings, 'container' | 'clock'>): ComponentSettings {
    const child = this.container.createChildContainer();
    const full: ComponentSettings = {
      ...settings,
      container: child,
      // Resolved when read, so a clock registered on the container after this still counts.
      get clock() {
        return clockFrom(child);
      },
    };
    child.register(SETTINGS_TOKEN, { useValue: full });
    return child.resolve<ComponentSettings>(SETTINGS_TOKEN);
  }
}
