// A server with API keys: the page asks for one, keeps it for the tab only
// (sessionStorage), and sends it with every request.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, settled, startRill, until, waitForModels } from './helpers.mjs';

const KEY = 'sk-rill-browser-test-2b7e151628aed2a6abf7158809cf4f3c';

let rill;
let browser;
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rill-keys-'));
  const config = join(dir, 'rill.toml');
  const sha256 = createHash('sha256').update(KEY).digest('hex');
  writeFileSync(
    config,
    `[[keys]]\nname = "page"\nsha256 = "${sha256}"\n\n` +
      '[[models]]\nname = "quick"\nprovider = "scripted"\n' +
      'script = { text = "Keys work.", tokens_per_second = 100 }\n',
  );
  rill = await startRill(config);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await rill?.stop();
});

test('the page asks for the API key, keeps it for the tab only, and sends it', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const authorizations = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/')) authorizations.push(r.headers().authorization ?? null);
    });
    await page.goto(rill.url);
    await page.waitForSelector('html[data-ready="true"]');
    const form = page.locator('[data-testid="key-form"]');
    await form.waitFor({ state: 'visible' });

    // A wrong key is refused, and the form asks again.
    await page.fill('[data-testid="api-key"]', 'sk-rill-wrong');
    await page.click('[data-testid="use-key"]');
    await form.waitFor({ state: 'visible' });

    await page.fill('[data-testid="api-key"]', KEY);
    await page.click('[data-testid="use-key"]');
    await waitForModels(page);
    assert.equal(await form.isVisible(), false);
    assert.deepEqual(await page.locator('[data-testid="model-select"] option').allTextContents(), ['quick']);

    await page.fill('[data-testid="prompt"]', 'hi');
    await page.press('[data-testid="prompt"]', 'Enter');
    const answer = page.locator('[data-role="assistant"]').first();
    assert.equal(await settled(answer), 'done');
    assert.equal((await answer.locator('[data-testid="answer"]').textContent()).trim(), 'Keys work.');
    assert.ok(authorizations.includes(`Bearer ${KEY}`), 'the key went out as a bearer token');

    // Kept for the tab, never in localStorage with the conversation.
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('rill.key'),
      local: Object.keys(localStorage).map((k) => localStorage.getItem(k)).join('\n'),
    }));
    assert.equal(stored.session, KEY);
    assert.ok(!stored.local.includes(KEY), 'the key is not in localStorage');

    // A new tab (a new session) asks again.
    const other = await context.newPage();
    await other.goto(rill.url);
    await other.waitForSelector('html[data-ready="true"]');
    await until(async () => other.locator('[data-testid="key-form"]').isVisible(), { message: 'the key form' });
  } finally {
    await context.close();
  }
});
