/**
 * Temporal's codec server protocol (`POST <endpoint>/decode`, `<endpoint>/encode`), so operators see visits decoded
 * in the Web UI and the CLI (`--codec-endpoint`, `--codec-auth`). Decoded history is an operator's privilege:
 *
 * - `operator` (the API, under /codec): an SSN service token or a JWT from CODEC_JWT_ISSUER; a client's API key is 401.
 * - `local` (CODEC_LOCAL_BIND, for a Web UI on the operator's own machine, which has no login): no token, but the
 *   request must come from a configured UI origin that is itself on loopback, to a loopback Host name.
 *
 * Both answer CORS for CODEC_CORS_ORIGIN only. `x-namespace`, when sent, must be this service's namespace.
 */
import type { Payload } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { ENCRYPTED_ENCODING, PayloadDecryptError, payloadCodecOf } from '../../temporal/codec.js';
import type { App, RouteDeps } from '../deps.js';
import { forbidden, HttpError, invalidInput } from '../errors.js';
import { CodecBodySchema, type JsonPayload } from '../schemas/codec.js';

export const CODEC_PREFIX = '/codec';

/** Larger than the API's 256 KiB: one history event's payloads may be up to Temporal's 2 MB each. */
const CODEC_BODY_LIMIT = 16 * 1024 * 1024;
const ALLOWED_HEADERS = 'authorization, content-type, x-namespace';
const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d+)?$/;

export interface CodecRouteOptions {
  deps: RouteDeps;
  access: 'operator' | 'local';
}

type Json = Static<typeof JsonPayload>;

const fromJson = ({ metadata, data }: Json): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  ...(data !== undefined ? { data: Buffer.from(data, 'base64') } : {}),
});

const toJson = ({ metadata, data }: Payload): Json => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(data ?? []).toString('base64'),
});

export async function codecRoutes(app: App, { deps, access }: CodecRouteOptions): Promise<void> {
  const { config } = deps;
  const codec = payloadCodecOf(config);
  const origins = new Set(config.codec.corsOrigins);

  const allowedOrigin = (request: FastifyRequest): string | undefined => {
    const origin = request.headers.origin;
    return typeof origin === 'string' && origins.has(origin) ? origin : undefined;
  };

  // CORS on every answer to an allowed origin, errors included: the UI must be able to read a 401.
  app.addHook('onSend', async (request, reply) => {
    const origin = allowedOrigin(request);
    if (origin === undefined) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'Origin');
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return;
    if (access === 'local') checkLocalCaller(request, allowedOrigin(request));
    else await deps.auth.operator(request, reply);
    const namespace = request.headers['x-namespace'];
    if (namespace !== undefined && namespace !== config.temporal.namespace) {
      throw invalidInput('x-namespace', `must be ${config.temporal.namespace}: this codec serves that namespace only`);
    }
  });

  const preflight = async (request: FastifyRequest, reply: FastifyReply) => {
    if (allowedOrigin(request) === undefined) throw forbidden('origin not allowed: set CODEC_CORS_ORIGIN to the Web UI origin');
    return reply
      .status(204)
      .header('access-control-allow-methods', 'POST, OPTIONS')
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', '600')
      .send();
  };

  const route = (name: 'decode' | 'encode', summary: string, convert: (payloads: Payload[]) => Promise<Payload[]>) => {
    app.options(`/${name}`, { schema: { hide: true } }, preflight);
    app.post(
      `/${name}`,
      {
        bodyLimit: CODEC_BODY_LIMIT,
        schema: {
          operationId: `codec${name[0]!.toUpperCase()}${name.slice(1)}`,
          summary,
          tags: ['codec'],
          security: [{ operatorToken: [] }],
          body: CodecBodySchema,
          response: { 200: CodecBodySchema },
        },
      },
      async (request) => ({ payloads: (await convert(request.body.payloads.map(fromJson))).map(toJson) }),
    );
  };

  route('decode', 'Decrypt payloads (the Web UI and `temporal --codec-endpoint` call it); unencrypted ones pass through', async (payloads) => {
    if (!codec) {
      const i = payloads.findIndex((p) => Buffer.from(p.metadata?.encoding ?? []).toString() === ENCRYPTED_ENCODING);
      if (i >= 0) throw new HttpError(422, 'unprocessable', `payloads[${i}] is encrypted, but TEMPORAL_PAYLOAD_KEYS is not set`, { field: `payloads[${i}]` });
      return payloads;
    }
    return payloads.map((payload, i) => {
      try {
        return codec.decodeOne(payload);
      } catch (err) {
        if (!(err instanceof PayloadDecryptError)) throw err;
        throw new HttpError(422, 'unprocessable', `payloads[${i}]: ${err.message}`, { field: `payloads[${i}]`, reason: err.reason });
      }
    });
  });
  route('encode', 'Encrypt payloads under the current key (the UI encodes what an operator sends, e.g. a signal)', async (payloads) =>
    codec ? codec.encode(payloads) : payloads,
  );
}

/**
 * The local listener's caller: a browser page from a configured UI origin on loopback, to a loopback Host name (no
 * DNS rebinding). Another page the operator has open sends its own Origin, and is refused.
 */
function checkLocalCaller(request: FastifyRequest, origin: string | undefined): void {
  if (origin === undefined || !LOOPBACK_HOST.test(new URL(origin).host)) {
    throw forbidden('the local codec endpoint answers only the local Temporal Web UI (CODEC_CORS_ORIGIN, on loopback)');
  }
  if (!LOOPBACK_HOST.test(request.headers.host ?? '')) throw forbidden('the local codec endpoint answers only on a loopback host name');
}
