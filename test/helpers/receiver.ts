/**
 * The one webhook receiver of the tests and the benchmark: a real HTTP server on loopback that records every
 * request and answers as its responder says (200 'ok' by default). The bench's verifying receiver is built on it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body as text; `raw` holds its exact bytes. */
  body: string;
  raw: Buffer;
  /** Date.now() on arrival. */
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (until the receiver closes): a hanging endpoint. */
  hang?: boolean;
  /** Answer only once this settles: requests held in flight together. */
  after?: Promise<unknown>;
  /** Answer after this long: a slow endpoint, so deliveries are in flight when a fault strikes. */
  delayMs?: number;
}

export type Responder = (request: ReceivedRequest, index: number) => Reply;

export interface ReceiverOptions {
  /** Keep every request in `requests` (default); a long benchmark only counts them. */
  keepRequests?: boolean;
  /** Called just after an answer was handed to the socket. */
  onAnswered?: (request: ReceivedRequest, reply: Reply) => void;
  /** The port (a free one by default): a receiver started again on its predecessor's port keeps its URL. */
  port?: number;
}

export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private responder: Responder = () => ({ status: 200, body: 'ok' });
  private readonly hanging = new Set<http.ServerResponse>();
  private received = 0;
  private unanswered = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly opts: ReceiverOptions,
  ) {}

  static async start(opts: ReceiverOptions = {}): Promise<Receiver> {
    const server = http.createServer();
    const receiver = new Receiver(server, opts);
    server.on('request', (req, res) => receiver.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', resolve);
    });
    return receiver;
  }

  /** `http://127.0.0.1:<port>`: any path under it reaches the receiver. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests received and not answered yet. */
  get inFlight(): number {
    return this.unanswered;
  }

  /** Sets how the following requests are answered. */
  respond(responder: Responder): void {
    this.responder = responder;
  }

  forEvent(eventId: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.headers['x-ssn-event-id'] === eventId);
  }

  async waitForRequests(count: number, filter: (r: ReceivedRequest) => boolean = () => true, timeoutMs = 30_000) {
    return waitFor(
      () => {
        const matching = this.requests.filter(filter);
        return matching.length >= count ? matching : undefined;
      },
      { timeoutMs, what: `${count} webhook request(s)` },
    );
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: raw.toString('utf8'),
        raw,
        at: Date.now(),
      };
      if (this.opts.keepRequests !== false) this.requests.push(request);
      const reply = this.responder(request, this.received++);
      if (reply.hang) {
        this.hanging.add(res);
        return;
      }
      const answer = () => {
        this.unanswered--;
        if (res.destroyed) return;
        res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
        this.opts.onAnswered?.(request, reply);
      };
      this.unanswered++;
      if (reply.after !== undefined) void reply.after.then(answer);
      else if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  }
}
