// Model output is untrusted: a hostile answer must be inert even with the page's CSP
// switched off (so the sanitizer alone is tested), and the page itself must be served
// with the CSP and work under it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ask, launchBrowser, openPage, screenshotPath, settled, sleep, startRill } from './helpers.mjs';

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

test('a hostile answer is inert: no script runs, no handlers, only http(s)/mailto links', async () => {
  // bypassCSP: the CSP would block inline handlers anyway; this proves the sanitizer does.
  const { page, close, problems } = await openPage(browser, rill.url, { contextOptions: { bypassCSP: true } });
  try {
    const dialogs = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      d.dismiss();
    });
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    const message = await ask(page, 'hostile', 'Show me something dangerous.');
    assert.equal(await settled(message), 'done');
    const answer = message.locator('[data-testid="answer"]');

    // Interact with everything that could carry a handler.
    await answer.hover({ timeout: 2000 }).catch(() => {});
    for (const el of await answer.locator('a, span, b, p, div').all()) {
      await el.hover({ timeout: 1000 }).catch(() => {});
    }
    for (const text of ['raw anchor', 'js link', 'data link', 'spaced', 'hover me', 'tag', 'js image']) {
      const target = answer.getByText(text, { exact: false }).first();
      if (await target.count()) await target.click({ timeout: 1000 }).catch(() => {});
    }
    await sleep(300);

    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no hostile code ran');
    assert.deepEqual(dialogs, []);

    const report = await page.evaluate(() => {
      const all = [...document.querySelectorAll('*')];
      const root = document.querySelector('[data-role="assistant"] [data-testid="answer"]');
      return {
        handlers: all.flatMap((el) => [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName} ${a.name}`)),
        styles: [...root.querySelectorAll('[style], style')].length,
        dangerous: [...root.querySelectorAll('script, iframe, object, embed, svg, img, details, form, input, button:not(.copy-code), link, meta, base')].map(
          (el) => el.tagName,
        ),
        scripts: document.querySelectorAll('script').length,
        iframes: document.querySelectorAll('iframe').length,
        hrefs: [...root.querySelectorAll('[href], [src], [action], [formaction], [xlink\\:href]')].map(
          (el) => el.getAttribute('href') ?? el.getAttribute('src') ?? el.getAttribute('action'),
        ),
        links: [...root.querySelectorAll('a[href]')].map((a) => ({ href: a.getAttribute('href'), target: a.target, rel: a.rel })),
        ids: [...root.querySelectorAll('[id]')].map((el) => el.id),
        text: root.textContent,
      };
    });
    assert.deepEqual(report.handlers, [], 'no element in the page has an on* attribute');
    assert.deepEqual(report.dangerous, [], 'no active or embedding element in the answer');
    assert.equal(report.styles, 0, 'no style attributes or elements from the answer');
    assert.equal(report.scripts, 1, "only the page's own module script");
    assert.equal(report.iframes, 0);
    assert.deepEqual(report.ids, [], 'no ids from model output (DOM clobbering)');
    for (const href of report.hrefs) {
      assert.match(href, /^(https:\/\/example\.com\/|mailto:)/, `only http(s)/mailto URLs survive: ${href}`);
    }
    assert.deepEqual(
      report.links.map((l) => l.href).sort(),
      ['https://example.com/pixel.png', 'https://example.com/safe', 'mailto:someone@example.com'],
    );
    for (const link of report.links) {
      assert.equal(link.target, '_blank');
      assert.equal(link.rel, 'noopener noreferrer');
    }
    // Raw HTML is shown as text, markdown still works.
    assert.match(report.text, /<script>window\.__pwned = "script"<\/script>/);
    assert.equal(await answer.locator('strong').first().textContent(), 'bold');
    assert.ok(await answer.locator('.code-block code').textContent().then((t) => t.includes('<script>')));
    // The image was not fetched.
    assert.deepEqual(requests.filter((u) => u.includes('pixel.png')), []);
    assert.deepEqual(problems, []);
    await page.screenshot({ path: screenshotPath('hostile-answer-inert'), fullPage: true });
  } finally {
    await close();
  }
});

test('the page is served with its CSP and runs under it', async () => {
  const response = await fetch(new URL('/', rill.url));
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/html/);
  const csp = response.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
  }
  const assets = [
    ['/assets/app.js', /javascript/],
    ['/assets/app.css', /^text\/css/],
    ['/rill-client.js', /javascript/],
  ];
  for (const [path, type] of assets) {
    const r = await fetch(new URL(path, rill.url));
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get('content-type') ?? '', type, `${path} content type`);
  }

  const { page, check, close } = await openPage(browser, rill.url);
  try {
    const message = await ask(page, 'quick', 'hi');
    assert.equal(await settled(message), 'done');
    assert.ok((await message.locator('.code-block').count()) > 0);
    await check();
  } finally {
    await close();
  }
});

test('the embeddable client works from a page', async () => {
  const { page, check, close } = await openPage(browser, rill.url);
  try {
    const result = await page.evaluate(async () => {
      const { streamChat, listModels } = await import('/rill-client.js');
      const models = await listModels();
      const types = [];
      const stream = streamChat({ model: 'thinker', messages: [{ role: 'user', content: 'q' }] });
      for await (const event of stream) types.push(event.type);
      const done = await stream.result;
      return { models: models.map((m) => m.id), types: [...new Set(types)], text: done.text, reasoning: done.reasoning, usage: done.usage };
    });
    assert.ok(result.models.includes('thinker'));
    assert.deepEqual(result.types, ['start', 'reasoning', 'text', 'usage', 'done']);
    assert.equal(result.text, 'The answer is **42**.');
    assert.match(result.reasoning, /forty-two/);
    assert.ok(result.usage.completion_tokens > 5);
    await check();
  } finally {
    await close();
  }
});
