/**
 * The payload codec's cost (`npm run bench:codec`): encode + decode per payload size, and per delivered lifecycle
 * event over the payloads a real visit's history holds (test/fixtures/full-visit-history.json, recorded before the
 * codec: its payloads are the plain ones the codec now sees). No Temporal server, no Postgres: CPU of this process.
 * Writes bench/results/codec.json.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DefaultPayloadConverter, type Payload } from '@temporalio/common';
import { newKeyEntry, parseKeyring } from '../src/crypto/keyring.js';
import { EncryptionCodec } from '../src/temporal/codec.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const codec = new EncryptionCodec(parseKeyring('TEMPORAL_PAYLOAD_KEYS', `${newKeyEntry('bench-p2')},${newKeyEntry('bench-p1')}`));
const converter = new DefaultPayloadConverter();

/** Microseconds of CPU per encode+decode of `payloads` (all of them), median of `rounds`. */
function cost(payloads: Payload[], minMs = 500, rounds = 5): { us: number; iterations: number } {
  // The work of the SDK-facing async encode()/decode(), which do it synchronously per payload.
  const once = () => {
    for (const payload of payloads) codec.decodeOne(codec.encodeOne(payload));
  };
  // Warm-up (JIT, zlib's and OpenSSL's first allocations), not measured.
  for (const t0 = performance.now(); performance.now() - t0 < 200; ) once();
  const samples: number[] = [];
  let iterations = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < minMs / rounds) {
      once();
      n++;
    }
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / n);
    iterations += n;
  }
  samples.sort((a, b) => a - b);
  return { us: samples[Math.floor(samples.length / 2)]!, iterations };
}

/** A JSON object of about `bytes` serialised, made of visit-like fields (compresses like real payloads). */
function visitLike(bytes: number): Payload {
  const events: unknown[] = [];
  let value: unknown = { events };
  for (let i = 0; JSON.stringify(value).length < bytes; i++) {
    events.push({
      id: `evt_${randomBytes(16).toString('hex')}`,
      type: 'rep.assigned',
      occurredAt: new Date(1_780_000_000_000 + i * 1000).toISOString(),
      data: { clientTicketNumber: `TKT-${1000 + i}`, clientSiteId: 'STORE-100', status: 'New', fieldRepName: `Rep ${i}` },
      status: 'delivered',
    });
    value = { events };
  }
  return converter.toPayload(value);
}

function historyPayloads(node: unknown, out: Payload[] = []): Payload[] {
  if (typeof node !== 'object' || node === null) return out;
  const p = node as { metadata?: Record<string, string>; data?: string };
  if (p.metadata && 'encoding' in p.metadata && !('type' in p.metadata)) {
    // Proto JSON: bytes as base64. Search attributes (they carry `type`) are not codec'd.
    out.push({
      metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
      data: Buffer.from(p.data ?? '', 'base64'),
    });
    return out;
  }
  for (const value of Object.values(node)) historyPayloads(value, out);
  return out;
}

const sizes = [128, 512, 1024, 4096, 16_384, 65_536];
const bySize = sizes.map((size) => {
  const payload = visitLike(size);
  const [encoded] = [codec.encodeOne(payload)];
  const { us } = cost([payload]);
  return { bytes: payload.data!.length, encodedBytes: encoded!.data!.length, compressed: encoded!.metadata!['ssn-compression'] !== undefined, usPerEncodeDecode: Number(us.toFixed(1)) };
});

const history = JSON.parse(await readFile(path.join(ROOT, 'test/fixtures/full-visit-history.json'), 'utf8')) as unknown;
const visitPayloads = historyPayloads(history);
const LIFECYCLE_EVENTS = 7; // the fixture's visit delivers seven webhooks
const visit = cost(visitPayloads, 1_000);
const payloadBytes = visitPayloads.reduce((n, p) => n + (p.data?.length ?? 0), 0);

const results = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
  bySize,
  perVisit: {
    payloads: visitPayloads.length,
    payloadBytes,
    usPerVisit: Number(visit.us.toFixed(0)),
    lifecycleEvents: LIFECYCLE_EVENTS,
    usPerEvent: Number((visit.us / LIFECYCLE_EVENTS).toFixed(0)),
  },
};

console.log('payload codec: CPU per encode + decode (AES-256-GCM, zlib above 1 KiB)');
console.log('  bytes     encoded   zlib   µs');
for (const r of bySize) console.log(`  ${String(r.bytes).padStart(6)}  ${String(r.encodedBytes).padStart(8)}   ${r.compressed ? 'yes' : 'no '}   ${r.usPerEncodeDecode}`);
console.log(
  `a whole visit (${results.perVisit.payloads} payloads, ${payloadBytes} bytes, ${LIFECYCLE_EVENTS} webhooks): ` +
    `${results.perVisit.usPerVisit} µs, ${results.perVisit.usPerEvent} µs per lifecycle event`,
);
await writeFile(path.join(ROOT, 'bench/results/codec.json'), `${JSON.stringify(results, null, 2)}\n`);
