// The chat page as a new user meets it: `rill serve` with no configuration, the embedded
// model, one question. The answer streams in (several states), finishes, and shows its
// speed; a second turn works too.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage, screenshotPath, settled, sleep, startRill } from './helpers.mjs';

let rill;
let browser;
before(async () => {
  rill = await startRill(null);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await rill?.stop();
});

test('the embedded model answers on the page, streamed, then a follow-up', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  try {
    const models = await page.locator('[data-testid="model-select"] option').allTextContents();
    assert.deepEqual(models, ['smollm2']);
    await page.fill('[data-testid="prompt"]', 'Explain HTTP in 50 words.');
    await page.press('[data-testid="prompt"]', 'Enter');
    const message = page.locator('[data-role="assistant"]').first();
    await message.waitFor();
    const states = new Set();
    while ((await message.getAttribute('data-status')) === 'streaming') {
      states.add(await message.locator('[data-testid="answer"]').innerText().catch(() => ''));
      await sleep(40);
    }
    assert.equal(await settled(message), 'done');
    const answer = await message.locator('[data-testid="answer"]').innerText();
    assert.ok(answer.length > 40, `a real answer: ${answer}`);
    assert.match(answer, /HTTP|protocol|web/i);
    assert.ok(states.size >= 3, `the answer grew in visible steps (${states.size} states)`);
    assert.match(await message.innerText(), /tok\/s/);
    await page.screenshot({ path: screenshotPath('embedded-model-answer') });

    await page.fill('[data-testid="prompt"]', 'Now in ten words.');
    await page.press('[data-testid="prompt"]', 'Enter');
    const second = page.locator('[data-role="assistant"]').nth(1);
    await second.waitFor();
    assert.equal(await settled(second), 'done');
    assert.ok((await second.locator('[data-testid="answer"]').innerText()).trim().length > 0);
    await check();
  } finally {
    await close();
  }
});
