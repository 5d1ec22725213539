// Streaming in a real browser against a real rill: the answer grows, renders markdown
// incrementally inside animation frames, Stop ends the generation on the server, and
// errors (mid-stream and before it) show inline with Retry.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ask, launchBrowser, metrics, openPage, screenshotPath, settled, sleep, startRill, until } from './helpers.mjs';

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

/**
 * Runs before the page's scripts: wraps requestAnimationFrame so that DOM mutations made
 * inside a frame callback are taken from the observers there, and anything the observers
 * still deliver afterwards happened outside a frame.
 */
function instrumentFrames() {
  window.__frameObservers = [];
  window.__mutations = { inFrame: 0, outOfFrame: 0, frames: 0 };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback) =>
    raf((time) => {
      window.__mutations.frames += 1;
      try {
        callback(time);
      } finally {
        for (const observer of window.__frameObservers) window.__mutations.inFrame += observer.takeRecords().length;
      }
    });
}

test('the answer grows token by token, settled blocks stay put, DOM updates happen only in frames', async () => {
  // A 2x screenshot of this one goes in the README.
  const { page, check, close } = await openPage(browser, rill.url, {
    init: instrumentFrames,
    viewport: { width: 1000, height: 760 },
    contextOptions: { deviceScaleFactor: 2 },
  });
  try {
    const message = await ask(page, 'slow-markdown', 'How does streaming work?');
    const answer = message.locator('[data-testid="answer"]');

    // Before the first token (the model waits 700 ms): the typing indicator, no text.
    assert.equal(await message.locator('[data-testid="typing"]').isVisible(), true, 'typing indicator before the first token');
    assert.equal(await answer.textContent(), '');
    await page.locator('[data-testid="stop"]').waitFor({ state: 'visible' });

    await message.evaluate((el) => {
      const root = el.querySelector('[data-testid="answer"]');
      const observer = new MutationObserver((records) => {
        window.__mutations.outOfFrame += records.length;
      });
      observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
      window.__frameObservers.push(observer);
    });

    const states = new Set();
    let screenshot = false;
    let snapshot = false;
    let typingSeenWithText = false;
    while ((await message.getAttribute('data-status')) === 'streaming') {
      const text = await answer.textContent();
      if (text) {
        states.add(text);
        if (await message.locator('[data-testid="typing"]').isVisible()) typingSeenWithText = true;
      }
      if (!snapshot && (await answer.locator('.md-block:not(.md-open)').count()) >= 3) {
        // Remember the settled blocks (the element objects and their HTML) mid-stream.
        await answer.evaluate((root) => {
          window.__settled = [...root.querySelectorAll('.md-block:not(.md-open)')].map((el) => ({ el, html: el.outerHTML }));
        });
        snapshot = true;
      }
      if (!screenshot && text.includes('Steady pace')) {
        await page.screenshot({ path: screenshotPath('streaming-mid-answer') });
        screenshot = true;
      }
      await sleep(60);
    }
    assert.equal(await message.getAttribute('data-status'), 'done');
    assert.ok(screenshot, 'took the mid-stream screenshot');
    assert.ok(snapshot, 'saw settled blocks mid-stream');
    assert.ok(states.size >= 10, `saw ${states.size} distinct states of the text while it streamed`);
    assert.equal(typingSeenWithText, false, 'the typing indicator goes once text arrives');
    // Incomplete markup never shows as raw markers while streaming (the text itself has
    // none outside its markup): no `**`, backticks, pipes, or link brackets.
    const raw = [...states].filter((text) => /\*\*|`|\||\[|\]\(/.test(text));
    assert.deepEqual(raw, [], 'no raw markdown markers flashed mid-stream');

    // Markdown rendered: heading, highlighted code with a copy button, list, link, table.
    assert.equal(await answer.locator('h2').textContent(), 'Streaming, token by token');
    assert.ok((await answer.locator('.code-block code .hljs-keyword').count()) > 3, 'rust is highlighted');
    assert.equal(await answer.locator('.code-block .code-lang').textContent(), 'rust');
    assert.equal(await answer.locator('[data-testid="copy-code"]').count(), 1);
    assert.equal(await answer.locator('ol > li').count(), 3);
    assert.equal(await answer.locator('table tr').count(), 3);
    const link = answer.locator('a', { hasText: 'SSE spec' });
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    assert.match(await answer.textContent(), /That is all there is to it\.\s*$/);
    assert.equal(await answer.locator('.md-open').count(), 0, 'nothing is left open at the end');
    assert.equal(await answer.innerHTML().then((html) => html.includes('**')), false, 'no raw markers');

    // The settled blocks seen mid-stream are the same element objects, unchanged.
    const kept = await page.evaluate(() =>
      window.__settled.map(({ el, html }) => ({ connected: el.isConnected, same: el.outerHTML === html })),
    );
    assert.ok(kept.length >= 3);
    assert.deepEqual(kept, kept.map(() => ({ connected: true, same: true })));

    // Every DOM change to the answer happened inside an animation frame.
    const mutations = await page.evaluate(() => window.__mutations);
    assert.ok(mutations.inFrame > 10, `mutations inside frames: ${mutations.inFrame}`);
    assert.equal(mutations.outOfFrame, 0, 'no DOM mutation outside requestAnimationFrame');

    // Numbers under the answer: TTFT includes the 700 ms wait; ~20 tokens/s.
    const line = await message.locator('[data-testid="metrics"]').textContent();
    const match = line.match(/^TTFT (\d+) ms · ([\d.]+) tok\/s · (\d+) tokens$/);
    assert.ok(match, `metrics line: ${line}`);
    assert.ok(Number(match[1]) >= 650 && Number(match[1]) < 3000, `TTFT ${match[1]} ms`);
    assert.ok(Number(match[2]) > 12 && Number(match[2]) < 30, `rate ${match[2]} tok/s`);
    assert.equal(await message.locator('[data-testid="copy-answer"]').isVisible(), true);
    assert.equal(await message.locator('[data-testid="retry"]').isVisible(), true);
    await page.screenshot({ path: screenshotPath('finished-answer') });
    await check();
  } finally {
    await close();
  }
});

test('Stop aborts the request and the server stops generating', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  try {
    const message = await ask(page, 'long', 'Write a lot.');
    const answer = message.locator('[data-testid="answer"]');
    await until(async () => ((await answer.textContent()) ?? '').length > 60, { message: 'some text' });

    const running = await metrics(rill.url);
    assert.equal(running.active, 1, 'one generation runs on the server');
    await sleep(300);
    assert.ok((await metrics(rill.url)).events > running.events, 'the server keeps producing events');

    await page.click('[data-testid="stop"]');
    const stoppedAt = Date.now();
    await until(async () => (await metrics(rill.url)).active === 0, { timeout: 2000, message: 'rill_streams_active to drop to 0' });
    const dropMs = Date.now() - stoppedAt;
    const first = (await metrics(rill.url)).events;
    await sleep(1000);
    const second = (await metrics(rill.url)).events;
    assert.equal(second, first, 'no more stream events after the stop');
    assert.ok(dropMs < 2000, `generation ended ${dropMs} ms after Stop`);

    assert.equal(await settled(message), 'stopped');
    const kept = await answer.textContent();
    assert.ok(kept.startsWith('A long answer'), 'the partial answer is kept');
    await sleep(300);
    assert.equal(await answer.textContent(), kept, 'the text no longer grows');
    assert.equal(await message.locator('[data-testid="message-note"]').textContent(), 'Stopped.');
    assert.equal(await page.locator('[data-testid="stop"]').isVisible(), false);
    assert.equal(await page.locator('[data-testid="send"]').isVisible(), true);
    assert.equal(await message.locator('[data-testid="retry"]').isVisible(), true);
    await check();
  } finally {
    await close();
  }
});

test('an error mid-stream shows inline, keeps the partial text, and Retry streams again', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  try {
    const message = await ask(page, 'flaky', 'Tell me a story.');
    assert.equal(await settled(message), 'error');
    const error = message.locator('[data-testid="message-error"]');
    assert.equal(await error.isVisible(), true);
    assert.equal(await error.getAttribute('role'), 'alert');
    const errorText = await error.textContent();
    assert.equal(errorText, 'The answer broke off: scripted error after 12 tokens.');
    const partial = await message.locator('[data-testid="answer"]').textContent();
    assert.ok(partial.startsWith('This answer starts well'), `partial text kept: ${partial}`);
    assert.ok(partial.length < 'This answer starts well and then breaks off in the middle'.length + 20);
    await page.screenshot({ path: screenshotPath('error-inline') });

    // Retry replaces the failed answer with a new stream of the same turn.
    const requests = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/chat/completions')) requests.push(r.postDataJSON());
    });
    await message.locator('[data-testid="retry"]').click();
    const again = page.locator('[data-role="assistant"]').last();
    assert.equal(await page.locator('[data-role="assistant"]').count(), 1, 'the failed answer is replaced');
    assert.equal(await settled(again), 'error');
    assert.equal(requests.length, 1);
    assert.deepEqual(requests[0].messages, [{ role: 'user', content: 'Tell me a story.' }]);
    assert.equal(requests[0].model, 'flaky');
    assert.deepEqual(requests[0].stream_options, { include_usage: true });
    await check();
  } finally {
    await close();
  }
});

test('an HTTP error before streaming shows the status and the server message', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  try {
    const message = await ask(page, 'busy', 'Hello?');
    assert.equal(await settled(message), 'error');
    const text = await message.locator('[data-testid="message-error"]').textContent();
    assert.equal(text, 'The server is busy (HTTP 429): scripted failure with status 429. Try again in 1 s.');
    assert.equal(await message.locator('[data-testid="answer"]').isVisible(), false);
    assert.equal(await message.locator('[data-testid="retry"]').isVisible(), true);
    assert.equal(await message.locator('[data-testid="copy-answer"]').isVisible(), false, 'nothing to copy');
    await check();
  } finally {
    await close();
  }
});

test('reasoning shows collapsed above the answer; tool calls are shown', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  try {
    const message = await ask(page, 'thinker', 'What is the answer?');
    assert.equal(await settled(message), 'done');
    const reasoning = message.locator('[data-testid="reasoning"]');
    assert.equal(await reasoning.isVisible(), true);
    assert.equal(await reasoning.evaluate((el) => el.open), false, 'collapsed');
    assert.equal(await reasoning.locator('summary').textContent(), 'Reasoning');
    assert.match(await reasoning.locator('.reasoning-body').textContent(), /forty-two/);
    assert.equal(await reasoning.locator('.reasoning-body').isVisible(), false, 'the text is hidden until opened');
    const order = await message.evaluate((el) => {
      const r = el.querySelector('[data-testid="reasoning"]');
      const a = el.querySelector('[data-testid="answer"]');
      return Boolean(r.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING);
    });
    assert.equal(order, true, 'reasoning comes before the answer');
    assert.equal(await message.locator('[data-testid="answer"] strong').textContent(), '42');
    await reasoning.locator('summary').click();
    assert.equal(await reasoning.locator('.reasoning-body').isVisible(), true);

    const tool = await ask(page, 'weather-tool', 'Weather in Paris?');
    assert.equal(await settled(tool), 'done');
    const call = tool.locator('[data-testid="tool-call"]');
    assert.equal(await call.count(), 1);
    assert.match(await call.textContent(), /Tool call: get_weather/);
    assert.match(await call.locator('pre').textContent(), /"city": "Paris"/);
    await check();
  } finally {
    await close();
  }
});
