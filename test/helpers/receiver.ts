import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (until the receiver closes): a hanging endpoint. */
  hang?: boolean;
}

type Responder = (request: ReceivedRequest, index: number) => Reply;

/** A real HTTP server on loopback that records every webhook and answers as the test says. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private responder: Responder = () => ({ status: 200, body: 'ok' });
  private readonly hanging = new Set<http.ServerResponse>();

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<Receiver> {
    const server = http.createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => receiver.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
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
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      const index = this.requests.push(request) - 1;
      const reply = this.responder(request, index);
      if (reply.hang) {
        this.hanging.add(res);
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? '');
    });
  }
}
