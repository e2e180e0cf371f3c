/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Top-level shape of collector.yaml. Each component's own options are in $defs.
 */
export interface CollectorConfigFile {
  /**
   * Modules that export component factories: a path (relative to this file) to a .js or .ts file, or an installed package name.
   */
  plugins?: string[];
  receivers?: {};
  processors?: {};
  exporters?: {};
  service: {
    /**
     * Pipelines keyed by name (e.g. `traces`, `network/edge`).
     */
    pipelines: {
      [k: string]: {
        receivers: string[];
        processors?: string[];
        exporters: string[];
      };
    };
    telemetry?: {
      log_level?: 'debug' | 'info' | 'warn' | 'error';
      /**
       * Print a status line with every component's counters on stderr this often; 0s turns it off.
       */
      status_interval?: string | number;
      /**
       * Deadline for draining in-flight data on shutdown.
       */
      shutdown_timeout?: string | number;
      /**
       * An HTTP health endpoint for liveness/readiness probes, as the Collector's health_check extension: GET <path> answers 200 with a JSON status while every pipeline runs, 503 while starting, stopping or after a component failed. Absent: no endpoint.
       */
      health_check?: {
        /**
         * host:port to listen on. 0.0.0.0 is needed for a kubelet probing the pod IP; 127.0.0.1 keeps it on the host.
         */
        endpoint?: string;
        /**
         * URL path of the status; other paths answer 404.
         */
        path?: string;
      };
    };
  };
}
