import { l7Attributes, eventAttributes } from './core/otel/attributes';
import { httpEvent, everyKind } from './test/exporters/fixtures';
const a: any = l7Attributes(httpEvent(), false, false);
// @ts-ignore
const fast = (o: any) => eval('%HasFastProperties(o)');
console.log('http span attrs', Object.keys(a).length, 'fast', fast(a));
for (const e of everyKind()) { if (e.kind.startsWith('l7.') || e.kind === 'payload') continue; const b: any = eventAttributes(e as any, false); console.log(e.kind, Object.keys(b).length, 'fast', fast(b)); }
