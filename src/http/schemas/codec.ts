/** The codec endpoints' body, both ways: Temporal's `Payloads` in proto JSON form (bytes as base64), as the Web UI and the CLI send it. */
import { Type } from 'typebox';

const BASE64 = '^[A-Za-z0-9+/_-]*={0,2}$';

export const JsonPayload = Type.Object(
  {
    metadata: Type.Optional(
      Type.Record(Type.String(), Type.String({ pattern: BASE64 }), { description: 'Metadata values, base64' }),
    ),
    data: Type.Optional(Type.String({ pattern: BASE64, description: 'The payload bytes, base64' })),
  },
  { additionalProperties: false },
);

export const CodecBodySchema = Type.Object(
  { payloads: Type.Array(JsonPayload, { maxItems: 10_000 }) },
  { additionalProperties: false, description: 'Payloads to encode or decode (proto JSON: bytes as base64)' },
);
