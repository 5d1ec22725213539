// Shared setup for the browser tests: a real `rill serve` on a free port and Debian's
// Chromium driven by playwright-core (installed by `npm ci` in web/).
//
//   cd web && npm ci && RILL_BIN=../target/debug/rill npm run test:browser

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../..');
const require = createRequire(join(ROOT, 'web/package.json'));
const { chromium } = require('playwright-core');

export const CONFIG = join(here, 'rill-browser.toml');
export const SCREENSHOTS = join(ROOT, 'target/browser-screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The rill binary: $RILL_BIN, else target/debug/rill. */
export function rillBinary() {
  const bin = process.env.RILL_BIN ? resolve(process.env.RILL_BIN) : join(ROOT, 'target/debug/rill');
  if (!existsSync(bin)) {
    throw new Error(`no rill binary at ${bin}: build it (cargo build) or set RILL_BIN`);
  }
  return bin;
}

/**
 * Starts `rill serve --config <config> --port 0` (no `--config` when `config` is null:
 * the embedded model) and waits for its
 * "rill listening on http://..." line.
 * @returns {Promise<{ url: string, stop: () => Promise<void>, logs: () => string }>}
 */
export async function startRill(config = CONFIG) {
  const args = config === null ? ['serve', '--port', '0'] : ['serve', '--config', config, '--port', '0'];
  const child = spawn(rillBinary(), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-20000);
  });
  const url = await new Promise((resolveUrl, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rill did not start listening within 30 s\n${stderr}`));
    }, 30000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      stdout += d;
      const match = stdout.match(/rill listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`rill exited early (${code ?? signal})\n${stderr}`));
    });
  });
  return {
    url,
    logs: () => stderr,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Headless Chromium (Debian's, never a downloaded one). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--font-render-hinting=none'],
  });
}

/**
 * A fresh context and page on rill's chat page. Page errors and CSP violations are
 * collected; `check()` fails the test if any happened.
 */
export async function openPage(
  browser,
  url,
  { viewport = { width: 1100, height: 800 }, path = '/', contextOptions = {}, colorScheme = 'light', init = null } = {},
) {
  const context = await browser.newContext({ viewport, colorScheme, ...contextOptions });
  const page = await context.newPage();
  if (init) await page.addInitScript(init);
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // Chromium logs every HTTP error status of a request; the API's are expected here.
    if (/^Failed to load resource/.test(msg.text()) && new URL(msg.location().url).pathname.startsWith('/v1/')) return;
    problems.push(`console error: ${msg.text()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window.__cspViolations ||= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(new URL(path, url).href);
  await page.waitForSelector('html[data-ready="true"]');
  await waitForModels(page);
  return {
    context,
    page,
    problems,
    /** Fails on page errors and CSP violations seen so far. */
    async check() {
      const csp = await page.evaluate(() => window.__cspViolations || []).catch(() => []);
      assert.deepEqual([...problems, ...csp.map((v) => `CSP violation: ${v}`)], [], 'no page errors or CSP violations');
    },
    close: () => context.close(),
  };
}

/** Waits until the model picker has been filled from /v1/models. */
export async function waitForModels(page) {
  await page.waitForFunction(() => {
    const select = document.querySelector('[data-testid="model-select"]');
    return select && !select.disabled && select.options.length > 0 && select.options[0].value !== '';
  });
}

/** Picks a model, types a prompt and presses Enter. Returns the new answer's locator. */
export async function ask(page, model, prompt) {
  await page.selectOption('[data-testid="model-select"]', model);
  const before = await page.locator('[data-role="assistant"]').count();
  await page.fill('[data-testid="prompt"]', prompt);
  await page.press('[data-testid="prompt"]', 'Enter');
  const message = page.locator('[data-role="assistant"]').nth(before);
  await message.waitFor();
  return message;
}

/** Waits until the answer is no longer streaming; returns its final status. */
export async function settled(message, timeout = 30000) {
  const handle = await message.elementHandle();
  await message.page().waitForFunction((el) => el.dataset.status !== 'streaming', handle, { timeout });
  return message.getAttribute('data-status');
}

/** Reads rill's /metrics. */
export async function metrics(url) {
  const response = await fetch(new URL('/metrics', url));
  assert.equal(response.status, 200, 'GET /metrics answers 200');
  const text = await response.text();
  const read = (name) => {
    const match = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)\\s*$`, 'm'));
    assert.ok(match, `/metrics has ${name}`);
    return Number(match[1]);
  };
  return { active: read('rill_streams_active'), events: read('rill_stream_events_total') };
}

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function until(fn, { timeout = 5000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${JSON.stringify(last)})`);
}

export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, `${name}.png`);
}
