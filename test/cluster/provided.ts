import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The two API processes' base URLs. */
    apiUrls: string[];
    /** The fault-injection endpoint of the global setup (test/cluster/global-setup.ts). */
    controlUrl: string;
    ssnToken: string;
    temporalAddress: string;
    temporalMetricsUrl: string;
    namespace: string;
    databaseUrl: string;
    rootDir: string;
  }
}
