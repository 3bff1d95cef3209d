/**
 * The webhook receiver a client would run, on the tests' receiver (test/helpers/receiver.ts): verifies every request
 * with verifySsnWebhook and the secret of the client its path names (`/hooks/<clientId>`), answers 200 (400 when it
 * does not verify), and notes when the 2xx went out. Keeps no requests, only counts.
 */
import type { EventEnvelope } from '../src/messages.js';
import { verifySsnWebhook, WebhookVerificationError } from '../src/verify.js';
import { Receiver, type ReceivedRequest, type Reply } from '../test/helpers/receiver.js';

export interface Received {
  clientId: string;
  event: EventEnvelope;
  /** performance.now() just after the 2xx was handed to the socket. */
  at: number;
}

export interface VerifyingReceiver {
  url(clientId: string): string;
  readonly counts: { verified: number; rejected: number; lastRejection: string | null };
  close(): Promise<void>;
}

const OK: Reply = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
const REJECTED: Reply = { status: 400 };

const clientIdOf = (request: ReceivedRequest) => decodeURIComponent(request.path.replace(/^\/hooks\//, ''));

export async function startVerifyingReceiver(opts: {
  secretOf: (clientId: string) => string | undefined;
  onEvent: (received: Received) => void;
}): Promise<VerifyingReceiver> {
  const counts = { verified: 0, rejected: 0, lastRejection: null as string | null };
  const verified = new WeakMap<ReceivedRequest, EventEnvelope>();
  const receiver = await Receiver.start({
    keepRequests: false,
    onAnswered: (request) => {
      const event = verified.get(request);
      if (event === undefined) return;
      counts.verified++;
      opts.onEvent({ clientId: clientIdOf(request), event, at: performance.now() });
    },
  });
  receiver.respond((request) => {
    const clientId = clientIdOf(request);
    const secret = opts.secretOf(clientId);
    try {
      if (secret === undefined) throw new Error(`no secret for client ${clientId}`);
      verified.set(request, verifySsnWebhook(request.raw, request.headers, [secret]) as unknown as EventEnvelope);
      return OK;
    } catch (err) {
      counts.rejected++;
      counts.lastRejection = err instanceof WebhookVerificationError ? err.reason : String(err);
      return REJECTED;
    }
  });
  return {
    url: (clientId) => `${receiver.url}/hooks/${encodeURIComponent(clientId)}`,
    counts,
    close: () => receiver.close(),
  };
}
