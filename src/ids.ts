import { randomBytes } from 'node:crypto';

/** `visit_` + 16 random bytes, base64url: URL-safe, unguessable. Not for workflow code (uses node:crypto). */
export const newVisitId = () => `visit_${randomBytes(16).toString('base64url')}`;
export const newDeliveryId = () => `dlv_${randomBytes(16).toString('hex')}`;
/** `int_` + 16 random bytes, hex: one accepted intake item (a Quickbase record, an async SSN change). */
export const newIntakeId = () => `int_${randomBytes(16).toString('hex')}`;
