/**
 * The local Temporal Web UI shows a visit decoded, in real Chromium (Debian's package, driven by playwright-core):
 * a dev server of this file's own with its UI, started as `npm start` starts it (`--ui-codec-endpoint` pointing at
 * the API's loopback-only codec listener), a worker and the API on it. The history holds only ciphertext, so
 * anything readable on the page came through the codec endpoint.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startDevServer, type DevServer } from '../../src/dev/local.js';
import { startApi, type RunningApi } from '../../src/http/server.js';
import { siteVisitWorkflowId } from '../../src/messages.js';
import { rawHistoryText } from '../helpers/history.js';
import { Receiver } from '../helpers/receiver.js';
import { createTestClient, startTestStack, uniqueTicket, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: DevServer;
let stack: TestStack;
let api: RunningApi;
let receiver: Receiver;
let browser: BrowserContext;
let profile: string;
let uiPort: number;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run the tests with \`npm test\` (scripts/ensure-chromium.sh installs it)`);
  uiPort = await freePort();
  const codecPort = await freePort();
  const codecBind = `127.0.0.1:${codecPort}`;
  server = await startDevServer({ cli: inject('temporalCli'), uiPort, uiCodecEndpoint: `http://${codecBind}/codec` });
  stack = await startTestStack({
    TEMPORAL_ADDRESS: server.address,
    HTTP_PORT: '0',
    CODEC_LOCAL_BIND: codecBind,
    CODEC_CORS_ORIGIN: `http://127.0.0.1:${uiPort},http://localhost:${uiPort}`,
  });
  api = await startApi({ config: stack.config, db: stack.db, client: stack.client, visits: stack.visits, logger: stack.logger, metrics: stack.metrics });
  receiver = await Receiver.start();
  profile = mkdtempSync(path.join(tmpdir(), 'ssn-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--headless'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await api?.close();
  await stack?.shutdown();
  await receiver?.close();
  await server?.stop();
});

describe('the local Web UI', () => {
  it("shows a visit's input and current details decoded through the codec endpoint", async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/ui` });
    const ticket = uniqueTicket('UI');
    const visit = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'STORE-UI', origin: 'api' });
    await stack.visits.applyChange(visit.id, { changeId: `ui-rep-${visit.id}`, origin: 'ssn', command: { type: 'assignRep', fieldRepName: 'Robin Browser' } });
    await stack.visits.applyChange(visit.id, {
      changeId: `ui-sched-${visit.id}`,
      origin: 'ssn',
      command: { type: 'schedule', scheduledDate: '2026-09-21', etaTime: '07:40' },
    });
    const workflowId = siteVisitWorkflowId(client.clientId, ticket);
    // Stored encrypted: neither the input's fields nor the rep are readable in the history itself.
    const raw = await rawHistoryText(stack.client, workflowId);
    for (const hidden of ['httpTimeoutMs', 'Robin Browser', '2026-09-21']) expect(raw.includes(hidden), hidden).toBe(false);

    const page = await browser.newPage();
    const decodes: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/codec/decode')) decodes.push(r.url());
    });
    await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'domcontentloaded' });
    try {
      // The workflow's input (the History tab's Input card): a field that exists only there.
      await page.getByText('"httpTimeoutMs"', { exact: false }).first().waitFor({ timeout: 45_000 });
      await page.getByText(`"clientTicketNumber": "${ticket}"`, { exact: false }).first().waitFor({ timeout: 5_000 });
      // Current details (the workflow's own markdown, served by a query the worker answers, decoded by the UI)
      // and the static summary, on the User Metadata tab.
      await page.getByRole('tab', { name: /User Metadata/ }).or(page.getByRole('link', { name: /User Metadata/ })).first().click();
      // The UI renders markdown in sandboxed frames: read every frame's text.
      const shown = await waitFor(
        async () => {
          const texts = await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')));
          const all = texts.join('\n');
          return all.includes('Rep: Robin Browser') && all.includes('Schedule: 2026-09-21 07:40') ? all : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'current details in the UI' },
      );
      expect(shown).toContain(`Site visit · client ${client.clientId} · ticket ${ticket}`);
      expect(shown).toContain(`visit ${visit.id}`);
    } finally {
      await page.screenshot({ path: path.join(tmpdir(), 'ssn-web-ui.png'), fullPage: true }).catch(() => undefined);
    }
    const text = await page.locator('body').innerText();
    expect(text).toContain(ticket);
    expect(text).not.toContain('binary/encrypted');
    expect(decodes.length).toBeGreaterThan(0);
    expect(new Set(decodes)).toEqual(new Set([`${api.localCodecUrl}/decode`]));
    expect(stack.logs.text).toMatch(/"route":"\/codec\/decode","url":"\/codec\/decode","statusCode":200/);
    await page.close();
  }, 120_000);
});
