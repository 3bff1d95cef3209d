import type { FastifyReply, FastifyRequest } from 'fastify';

/** RFC 7240 `Prefer: respond-async` (tokens are case-insensitive, comma-separated, may carry parameters). */
export function prefersAsync(request: FastifyRequest): boolean {
  const header = request.headers.prefer;
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values.some((value) => value.split(',').some((token) => token.split(';')[0]!.trim().toLowerCase() === 'respond-async'));
}

/** 202 with the receipt, where to read the outcome, and (RFC 7240) which preference was honoured. */
export function accepted(reply: FastifyReply, receipt: { statusUrl: string }, preferenceApplied: boolean) {
  reply.status(202).header('location', receipt.statusUrl);
  if (preferenceApplied) reply.header('preference-applied', 'respond-async');
  return reply.send(receipt);
}
