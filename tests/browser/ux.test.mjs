// What a person expects from the chat page: copy, the keyboard, a phone-sized screen,
// a draft that survives a reload, the model picker, multi-turn history, auto-scroll
// with jump-to-bottom, themes, and New chat.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ask, launchBrowser, metrics, openPage, screenshotPath, settled, sleep, startRill, until, waitForModels } from './helpers.mjs';

let rill;
let browser;
before(async () => {
  rill = await startRill();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await rill?.stop();
});

const MODELS = ['slow-markdown', 'quick', 'flaky', 'busy', 'long', 'tall', 'hostile', 'thinker', 'weather-tool'];

test('Copy puts the answer and the code on the clipboard', async () => {
  const { page, context, check, close } = await openPage(browser, rill.url);
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(rill.url).origin });
    const message = await ask(page, 'quick', 'How do I install it?');
    assert.equal(await settled(message), 'done');
    const copy = message.locator('[data-testid="copy-answer"]');
    await copy.click();
    await until(async () => (await copy.textContent()) === 'Copied', { message: 'Copied feedback' });
    const answer = await page.evaluate(() => navigator.clipboard.readText());
    assert.ok(answer.startsWith('Here is how to **install** it:'), 'the markdown source is copied');
    assert.ok(answer.endsWith('Done.'));
    assert.ok(answer.includes('| `baseUrl` |'));

    await message.locator('[data-testid="copy-code"]').first().click();
    await until(async () => (await page.evaluate(() => navigator.clipboard.readText())) === 'npm ci && npm run build', {
      message: 'the code block on the clipboard',
    });
    await check();
  } finally {
    await close();
  }
});

test('Enter sends, Shift+Enter adds a line, Esc stops', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  try {
    await page.selectOption('[data-testid="model-select"]', 'long');
    const prompt = page.locator('[data-testid="prompt"]');
    await prompt.click();
    await page.keyboard.type('line one');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('line two');
    assert.equal(await prompt.inputValue(), 'line one\nline two');
    assert.equal(await page.locator('[data-role="user"]').count(), 0, 'Shift+Enter does not send');

    await page.keyboard.press('Enter');
    const user = page.locator('[data-role="user"]');
    await user.waitFor();
    assert.equal(await user.locator('[data-testid="user-text"]').textContent(), 'line one\nline two');
    assert.equal(await prompt.inputValue(), '', 'the box is cleared');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'prompt', 'focus stays in the box');

    const message = page.locator('[data-role="assistant"]');
    await until(async () => ((await message.locator('[data-testid="answer"]').textContent()) ?? '').length > 20, { message: 'text' });
    // Enter while streaming does not send a second turn.
    await page.keyboard.type('next question');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('[data-role="user"]').count(), 1);
    assert.equal(await prompt.inputValue(), 'next question', 'what was typed is kept');

    await page.keyboard.press('Escape');
    assert.equal(await settled(message), 'stopped');
    await until(async () => (await metrics(rill.url)).active === 0, { timeout: 2000, message: 'the server to stop' });
    await check();
  } finally {
    await close();
  }
});

test('a phone-sized screen: no horizontal overflow, the box and Send stay visible', async () => {
  const { page, check, close } = await openPage(browser, rill.url, {
    viewport: { width: 390, height: 844 },
    contextOptions: { isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  });
  try {
    const message = await ask(page, 'quick', 'Show me a table and some code on my phone, please.');
    assert.equal(await settled(message), 'done');
    await sleep(100);
    const layout = await page.evaluate(() => ({
      doc: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      scroller: document.querySelector('[data-testid="scroller"]').scrollWidth,
      width: window.innerWidth,
      height: window.innerHeight,
    }));
    assert.ok(layout.doc <= layout.width, `document ${layout.doc}px wide in a ${layout.width}px screen`);
    assert.ok(layout.body <= layout.width, `body ${layout.body}px`);
    assert.ok(layout.scroller <= layout.width, `conversation ${layout.scroller}px`);
    for (const id of ['prompt', 'send', 'model-select', 'new-chat']) {
      const box = await page.locator(`[data-testid="${id}"]`).boundingBox();
      assert.ok(box, `${id} is shown`);
      assert.ok(box.x >= 0 && box.x + box.width <= layout.width, `${id} fits horizontally`);
      assert.ok(box.y >= 0 && box.y + box.height <= layout.height, `${id} is within the screen`);
    }
    // Wide content scrolls inside its own box.
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('.code-block pre, .table-wrap')].map((el) => el.scrollWidth > el.clientWidth),
    );
    assert.ok(wide.includes(true), 'the long code line scrolls inside its block');
    await page.screenshot({ path: screenshotPath('phone-390x844') });
    await check();
  } finally {
    await close();
  }
});

test('a reload mid-answer follows the same answer to its end: nothing missing, nothing twice', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  const saved = () =>
    page.evaluate(() => JSON.parse(localStorage.getItem('rill.conversation.v1') ?? '{"messages":[]}').messages);
  try {
    const message = await ask(page, 'long', 'Write a long answer.');
    const answer = message.locator('[data-testid="answer"]');
    await until(async () => ((await answer.textContent()) ?? '').length > 120, { message: 'some text' });
    await sleep(600); // longer than the draft's save throttle
    const [, draft] = await saved();
    assert.equal(draft.status, 'streaming');
    assert.match(draft.streamId, /^chatcmpl-/);
    const { active } = await metrics(rill.url);
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');

    // The same answer goes on: rill kept generating through the reload (the page asks
    // for resumable answers), and no new generation started.
    const restored = page.locator('[data-role="assistant"]');
    assert.equal(await restored.count(), 1);
    assert.equal((await metrics(rill.url)).active, active);
    assert.equal(await settled(restored, 30000), 'done');
    const [, done] = await saved();
    assert.equal(done.status, 'done');
    assert.equal(done.streamId, draft.streamId);
    assert.ok(done.content.startsWith(draft.content.slice(0, 100)));

    // The answer is exactly the stream's own text: read it again from rill.
    const replay = await fetch(new URL(`/v1/streams/${draft.streamId}`, rill.url));
    assert.equal(replay.status, 200);
    let text = '';
    for (const block of (await replay.text()).split('\n\n')) {
      const data = block.split('\n').find((line) => line.startsWith('data: '))?.slice(6);
      if (!data || data === '[DONE]') continue;
      text += JSON.parse(data).choices?.[0]?.delta?.content ?? '';
    }
    assert.ok(text.endsWith('Thank you for reading this far.'), 'the whole answer was generated');
    assert.equal(done.content, text);
    assert.equal(await page.locator('[data-role="user"] [data-testid="user-text"]').textContent(), 'Write a long answer.');
    await until(async () => (await metrics(rill.url)).active === 0, { timeout: 2000, message: 'the stream to end' });
    await check();
  } finally {
    await close();
  }
});

test('the model picker lists the models, remembers the choice, and sends it', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  try {
    const options = await page.locator('[data-testid="model-select"] option').allTextContents();
    assert.deepEqual(options, MODELS);
    assert.equal(await page.locator('label[for="model"]').textContent(), 'Model');
    await page.selectOption('[data-testid="model-select"]', 'thinker');
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    await waitForModels(page);
    assert.equal(await page.locator('[data-testid="model-select"]').inputValue(), 'thinker');

    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
    await page.fill('[data-testid="prompt"]', 'which model?');
    await page.press('[data-testid="prompt"]', 'Enter');
    assert.equal((await sent).postDataJSON().model, 'thinker');
    await settled(page.locator('[data-role="assistant"]'));
    await check();
  } finally {
    await close();
  }
});

test('each turn sends the whole conversation; New chat starts over', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  try {
    const first = await ask(page, 'thinker', 'First question');
    assert.equal(await settled(first), 'done');
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
    const second = await ask(page, 'quick', 'Second question');
    const body = (await sent).postDataJSON();
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'First question' },
      { role: 'assistant', content: 'The answer is **42**.' },
      { role: 'user', content: 'Second question' },
    ]);
    assert.equal(body.stream, true);
    assert.equal(await settled(second), 'done');
    // Only the last answer offers Retry.
    assert.equal(await first.locator('[data-testid="retry"]').isVisible(), false);
    assert.equal(await second.locator('[data-testid="retry"]').isVisible(), true);

    await page.click('[data-testid="new-chat"]');
    assert.equal(await page.locator('[data-testid="message"]').count(), 0);
    assert.equal(await page.locator('[data-testid="empty"]').isVisible(), true);
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.locator('[data-testid="message"]').count(), 0, 'the cleared chat stays cleared');
    await check();
  } finally {
    await close();
  }
});

test('auto-scroll follows the stream, stops when scrolled up, and jump-to-bottom resumes it', async () => {
  const { page, check, close } = await openPage(browser, rill.url, { viewport: { width: 800, height: 500 } });
  try {
    const scroller = page.locator('[data-testid="scroller"]');
    const position = () =>
      scroller.evaluate((el) => ({ top: el.scrollTop, gap: el.scrollHeight - el.scrollTop - el.clientHeight, height: el.scrollHeight }));
    const message = await ask(page, 'tall', 'Scroll test');
    await until(async () => (await position()).height > 1200, { timeout: 15000, message: 'the answer to overflow' });
    const following = await position();
    assert.ok(following.gap < 40, `follows the stream (gap ${following.gap}px)`);
    assert.equal(await page.locator('[data-testid="jump-to-bottom"]').isVisible(), false);

    await scroller.hover();
    await page.mouse.wheel(0, -600);
    await sleep(800);
    const up = await position();
    assert.ok(up.gap > 200, `stays where the reader scrolled (gap ${up.gap}px)`);
    const later = await position();
    assert.ok(Math.abs(later.top - up.top) < 2, 'does not jump back down');
    const jump = page.locator('[data-testid="jump-to-bottom"]');
    assert.equal(await jump.isVisible(), true, 'jump-to-bottom appears');
    await page.screenshot({ path: screenshotPath('scrolled-up-jump-button') });

    await jump.click();
    await until(async () => (await position()).gap < 40, { timeout: 3000, message: 'back at the bottom' });
    await sleep(600);
    assert.ok((await position()).gap < 40, 'follows again');
    assert.equal(await jump.isVisible(), false);
    await page.click('[data-testid="stop"]');
    await settled(message);
    await check();
  } finally {
    await close();
  }
});

test('light and dark themes follow prefers-color-scheme', async () => {
  const colors = {};
  for (const scheme of ['light', 'dark']) {
    const { page, check, close } = await openPage(browser, rill.url, { colorScheme: scheme });
    try {
      const message = await ask(page, 'quick', `A ${scheme} answer`);
      await settled(message);
      colors[scheme] = await page.evaluate(() => {
        const style = (sel) => getComputedStyle(document.querySelector(sel));
        return { bg: style('body').backgroundColor, text: style('body').color, code: style('.code-block').backgroundColor };
      });
      await page.screenshot({ path: screenshotPath(`theme-${scheme}`) });
      await check();
    } finally {
      await close();
    }
  }
  assert.notEqual(colors.light.bg, colors.dark.bg);
  assert.notEqual(colors.light.text, colors.dark.text);
  assert.equal(colors.light.bg, 'rgb(255, 255, 255)');
  assert.notEqual(colors.light.code, colors.dark.code);
});
