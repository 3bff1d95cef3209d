/** Operations: liveness and readiness. */
import { Type } from 'typebox';

export const HealthSchema = Type.Object({ status: Type.String() });
export const ReadySchema = Type.Object({
  status: Type.String({ description: 'ready | unavailable' }),
  checks: Type.Object({ postgres: Type.String(), temporal: Type.String() }),
});
