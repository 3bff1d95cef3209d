/**
 * The payload codec: every payload this service hands Temporal (workflow, update, signal and query arguments and
 * results, activity inputs and results, memo, the UI's summary and current details) is AES-256-GCM encrypted
 * before it leaves the process, under the current key of TEMPORAL_PAYLOAD_KEYS, and deflated first when that
 * pays. Search attributes are not payloads a codec sees: they stay plain.
 *
 * As temporalio/samples-typescript `encryption/`: the whole payload (its metadata too) is serialised and
 * encrypted; the outer payload says `encoding: binary/encrypted` and names the key. Decoding passes through
 * payloads that are not encrypted, so histories written before the codec was on keep replaying.
 * Codecs run in the worker's and the client's process, never in the workflow sandbox.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { METADATA_ENCODING_KEY, ValueError, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Config } from '../config.js';
import { DecryptError, type Keyring } from '../crypto/keyring.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
/** `zlib` when the serialised payload was deflated before encryption. */
export const METADATA_COMPRESSION = 'ssn-compression';
/** Smaller serialised payloads are not worth deflating (most of ours: a change, a delivery input). */
export const COMPRESS_ABOVE_BYTES = 1024;

// CommonJS: Node's ESM loader sees only its default export.
const { Payload: PayloadProto } = proto.temporal.api.common.v1;
const text = new TextEncoder();
const untext = new TextDecoder();

/** A payload the codec cannot decode: an unknown key ID, a wrong key, or damaged bytes. */
export class PayloadDecryptError extends ValueError {
  override name = 'PayloadDecryptError';
  constructor(
    message: string,
    readonly reason: DecryptError['reason'] | 'missing_key_id',
  ) {
    super(message);
  }
}

export interface CodecOptions {
  /** Deflate serialised payloads of at least this many bytes (when the result is smaller). */
  compressAboveBytes?: number;
}

export class EncryptionCodec implements PayloadCodec {
  readonly #keys: Keyring;
  readonly #compressAbove: number;

  constructor(keys: Keyring, opts: CodecOptions = {}) {
    this.#keys = keys;
    this.#compressAbove = opts.compressAboveBytes ?? COMPRESS_ABOVE_BYTES;
  }

  get currentKeyId(): string {
    return this.#keys.currentId;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encodeOne(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decodeOne(payload));
  }

  encodeOne(payload: Payload): Payload {
    const serialised = PayloadProto.encode(payload).finish();
    let body: Uint8Array = serialised;
    let compression: string | undefined;
    if (serialised.length >= this.#compressAbove) {
      const deflated = deflateRawSync(serialised);
      if (deflated.length < serialised.length) {
        body = deflated;
        compression = 'zlib';
      }
    }
    const { keyId, data } = this.#keys.seal(body, aad(this.#keys.currentId, compression));
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: text.encode(ENCRYPTED_ENCODING),
        [METADATA_KEY_ID]: text.encode(keyId),
        ...(compression ? { [METADATA_COMPRESSION]: text.encode(compression) } : {}),
      },
      data,
    };
  }

  decodeOne(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || untext.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyIdBytes = payload.metadata?.[METADATA_KEY_ID];
    if (!keyIdBytes) throw new PayloadDecryptError(`an encrypted payload has no ${METADATA_KEY_ID}`, 'missing_key_id');
    const keyId = untext.decode(keyIdBytes);
    const compressionBytes = payload.metadata?.[METADATA_COMPRESSION];
    const compression = compressionBytes ? untext.decode(compressionBytes) : undefined;
    if (compression !== undefined && compression !== 'zlib') {
      throw new PayloadDecryptError(`an encrypted payload names an unknown ${METADATA_COMPRESSION} ${JSON.stringify(compression)}`, 'malformed');
    }
    let body: Buffer;
    try {
      body = this.#keys.open(keyId, payload.data ?? new Uint8Array(), aad(keyId, compression));
    } catch (err) {
      if (err instanceof DecryptError) throw new PayloadDecryptError(`payload ${err.message}`, err.reason);
      throw err;
    }
    return PayloadProto.decode(compression ? inflateRawSync(body) : body);
  }
}

/** What the outer metadata claims is authenticated with the ciphertext: flipping the flag or the key ID fails. */
function aad(keyId: string, compression: string | undefined): Uint8Array {
  return text.encode(`${ENCRYPTED_ENCODING};${keyId};${compression ?? 'none'}`);
}

/** The codec for this configuration; undefined when TEMPORAL_PAYLOAD_KEYS is not set (payloads go plain). */
export function payloadCodecOf(config: Pick<Config, 'temporal'>): EncryptionCodec | undefined {
  const keys = config.temporal.payloadKeys;
  return keys ? new EncryptionCodec(keys) : undefined;
}

/** `dataConverter` for every Client, Worker and replay of this service (the codec, when keys are configured). */
export function dataConverterOf(config: Pick<Config, 'temporal'>): DataConverter {
  const codec = payloadCodecOf(config);
  return codec ? { payloadCodecs: [codec] } : {};
}
