import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    workflowBundlePath: string;
    temporalCli: string;
    /** TEMPORAL_PAYLOAD_KEYS for every test file (one key, made per run). */
    payloadKeys: string;
    /** SECRETS_ENCRYPTION_KEYS for every test file (one key, made per run). */
    secretsKeys: string;
  }
}
