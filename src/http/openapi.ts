/** The OpenAPI 3.1 document's frame: its info, tags and security schemes; the paths come from the route schemas. */
import type { SwaggerOptions } from '@fastify/swagger';
import type { Config } from '../config.js';

export function openApiOptions(config: Config): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'SSN site visits API',
        version: config.serviceVersion,
        description:
          'Create and follow SSN site visits; SSN operations and Quickbase feed their lifecycle. Every error is `{"error": {"code", "message", "details"}}`.',
      },
      tags: [
        { name: 'client', description: 'Client API: Authorization: Bearer <client API key>' },
        { name: 'ssn: clients', description: 'SSN API: client administration (Authorization: Bearer <SSN service token>)' },
        { name: 'ssn: site visits', description: 'SSN API: visit changes and Quickbase records' },
        { name: 'operations', description: 'Health, readiness, metrics, this document' },
      ],
      components: {
        securitySchemes: {
          clientApiKey: { type: 'http', scheme: 'bearer', description: 'A client API key, ssn_live_...' },
          ssnServiceToken: { type: 'http', scheme: 'bearer', description: 'An SSN service token (SSN_SERVICE_TOKENS)' },
        },
      },
    },
  };
}
