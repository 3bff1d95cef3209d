import { describe, expect, it } from 'vitest';
import { assertKeyPart, InvalidVisitKeyError, siteVisitWorkflowId } from '../../src/messages.js';

const FIELDS = ['clientId', 'clientTicketNumber', 'clientSiteId', 'quickbaseRecordId'] as const;

describe('assertKeyPart', () => {
  it.each([
    ['a single character', 'A'],
    ['digits', '1001'],
    ['letters, digits, dot, underscore, dash', 'CLIENT-TKT_1001.a'],
    ['64 characters', 'a'.repeat(64)],
    ['starting with a digit', '7-eleven'],
  ])('accepts %s', (_, value) => {
    for (const field of FIELDS) expect(() => assertKeyPart(field, value)).not.toThrow();
  });

  it.each([
    ['65 characters', 'a'.repeat(65)],
    ['empty', ''],
    ['a space', 'CLIENT TKT'],
    ['a colon', 'client:1'],
    ['a slash', 'client/1'],
    ['a backslash', 'client\\1'],
    ['unicode', 'tické-1'],
    ['an emoji', 'ticket-🚀'],
    ['a trailing newline', 'ticket-1\n'],
    ['a leading dash', '-ticket'],
    ['a leading dot', '.ticket'],
    ['a leading underscore', '_ticket'],
  ])('rejects %s with an InvalidVisitKeyError naming the field', (_, value) => {
    for (const field of FIELDS) {
      expect(() => assertKeyPart(field, value)).toThrow(InvalidVisitKeyError);
      expect(() => assertKeyPart(field, value)).toThrow(new RegExp(`^${field} must be 1-64 characters`));
    }
  });

  it('never echoes the rejected value', () => {
    expect(() => assertKeyPart('clientId', 'x secret y')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret') }));
  });
});

describe('siteVisitWorkflowId', () => {
  it('joins client and ticket after a fixed prefix', () => {
    expect(siteVisitWorkflowId('client_1', 'CLIENT-TKT-1001')).toBe('site-visit:client_1:CLIENT-TKT-1001');
  });

  it('is unambiguous: distinct keys give distinct IDs', () => {
    expect(siteVisitWorkflowId('a.b', 'c')).not.toBe(siteVisitWorkflowId('a', 'b.c'));
    expect(siteVisitWorkflowId('a-b', 'c')).not.toBe(siteVisitWorkflowId('a', 'b-c'));
  });

  it.each<[string, string, string, string]>([
    ['clientId', 'client:1', 'T-1', 'a colon in the client ID'],
    ['clientId', '', 'T-1', 'an empty client ID'],
    ['clientId', 'c'.repeat(65), 'T-1', 'a 65-character client ID'],
    ['clientTicketNumber', 'client_1', 'T 1', 'a space in the ticket number'],
    ['clientTicketNumber', 'client_1', 'T/1', 'a slash in the ticket number'],
    ['clientTicketNumber', 'client_1', 'Ticket-ü', 'unicode in the ticket number'],
    ['clientTicketNumber', 'client_1', '', 'an empty ticket number'],
  ])('rejects %s (%s)', (field, clientId, ticket) => {
    expect(() => siteVisitWorkflowId(clientId, ticket)).toThrow(InvalidVisitKeyError);
    expect(() => siteVisitWorkflowId(clientId, ticket)).toThrow(new RegExp(`^${field} `));
  });
});
