/** The webhook receiver a client would run: verifies every request with verifySsnWebhook, answers 200, notes when. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventEnvelope } from '../src/messages.js';
import { verifySsnWebhook, WebhookVerificationError } from '../src/verify.js';

export interface Received {
  clientId: string;
  event: EventEnvelope;
  /** performance.now() just after the 2xx was handed to the socket. */
  at: number;
}

export interface BenchReceiver {
  url(clientId: string): string;
  readonly counts: { verified: number; rejected: number; lastRejection: string | null };
  close(): Promise<void>;
}

export async function startReceiver(opts: {
  secretOf: (clientId: string) => string | undefined;
  onEvent: (received: Received) => void;
}): Promise<BenchReceiver> {
  const counts = { verified: 0, rejected: 0, lastRejection: null as string | null };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const clientId = decodeURIComponent((req.url ?? '').replace(/^\/hooks\//, ''));
      const secret = opts.secretOf(clientId);
      let event: EventEnvelope;
      try {
        if (secret === undefined) throw new Error(`no secret for client ${clientId}`);
        event = verifySsnWebhook(Buffer.concat(chunks), req.headers, [secret]) as unknown as EventEnvelope;
      } catch (err) {
        counts.rejected++;
        counts.lastRejection = err instanceof WebhookVerificationError ? err.reason : String(err);
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      counts.verified++;
      opts.onEvent({ clientId, event, at: performance.now() });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (clientId) => `${base}/hooks/${encodeURIComponent(clientId)}`,
    counts,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
