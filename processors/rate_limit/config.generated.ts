/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Caps the event rate with a token bucket (optionally one per process, pod or destination); excess events are dropped or delayed within a bound.
 */
export interface RateLimitProcessorConfig {
  /**
   * Sustained rate each bucket refills at, in events per second (fractions allowed). The original MaxEventsPerSecond.
   */
  events_per_second?: number;
  /**
   * Bucket capacity: events that may pass at once after a quiet period. 0 means one second's worth (events_per_second rounded up, at least 1).
   */
  burst?: number;
  /**
   * One bucket for everything (none), or one per process id, per pod (namespace/name; events outside pods share one bucket), or per destination (the server side's address and port).
   */
  key?: 'none' | 'process' | 'pod' | 'destination';
  /**
   * Most keys with their own bucket. When full, a new key takes the least recently used key's slot if that bucket is idle (full); otherwise it shares one overflow bucket.
   */
  max_keys?: number;
  /**
   * What happens to an event without a token: drop it, or hold it until its bucket refills (bounded by max_delay and max_queued_events; beyond either it is dropped).
   */
  behavior?: 'drop' | 'delay';
  /**
   * delay: longest an event may be held. Also bounds how long shutdown waits for held events.
   */
  max_delay?: number;
  /**
   * delay: most events held at once, across all keys.
   */
  max_queued_events?: number;
}
