import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createMetrics, serveMetrics } from '../../src/metrics.js';

describe('the worker metrics endpoint', () => {
  it("serves the process's counters at /metrics and nothing else", async () => {
    const metrics = createMetrics();
    metrics.deliveries.inc({ outcome: 'delivered' }, 3);
    const server = await serveMetrics(metrics, undefined, '127.0.0.1:0');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('ssn_webhook_deliveries_total{outcome="delivered"} 3');
      expect((await fetch(`${base}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
