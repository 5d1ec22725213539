// Render benchmark: how much main-thread time the chat page spends rendering a long
// streamed markdown answer, incremental renderer vs. a naive re-render per token.
//
//   cd web && npm ci && cargo build --release
//   RILL_BIN=../target/release/rill node ../bench/render.mjs [--tokens 20000] [--rate 2000]
//       [--modes incremental,naive] [--naive-timeout 300] [--trace-out PREFIX]
//
// It generates a varied markdown answer (headings, paragraphs with inline emphasis,
// links and code, lists, code fences, tables, quotes) of about --tokens tokens, writes a
// rill config with a scripted model that streams it at --rate tokens/s to a temporary
// file, starts rill with it, and streams the answer into the real page in headless
// Chromium once per mode (`?render=naive` selects the baseline). It measures, from the
// click on Send until the last token is rendered:
//   - main-thread busy time: the sum of the renderer main thread's tasks (CDP trace
//     "RunTask" events), and Chromium's own TaskDuration metric (Performance.getMetrics);
//   - the longest task (trace) and the tasks over 50 ms (PerformanceObserver longtask);
//   - wall time, against the time the server needs to send everything.
// The naive run is slow by design: about 3 minutes for 20,000 tokens on 2 cores.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, startRill } from '../tests/browser/helpers.mjs';

const args = parseArgs(process.argv.slice(2));
const TOKENS = Number(args.tokens ?? 20000);
const RATE = Number(args.rate ?? 2000);
const MODES = (args.modes ?? 'incremental,naive').split(',');
const NAIVE_TIMEOUT_S = Number(args['naive-timeout'] ?? 300);

if (!process.env.RILL_BIN) {
  console.error('set RILL_BIN to a release build of rill, e.g. RILL_BIN=target/release/rill');
  process.exit(2);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 1) {
    const match = argv[i].match(/^--([\w-]+)(?:=(.*))?$/);
    if (!match) throw new Error(`unknown argument ${argv[i]}`);
    out[match[1]] = match[2] ?? argv[++i];
  }
  return out;
}

/** Tokens as rill's scripted provider splits them (crates/rill-providers/src/scripted/tokens.rs). */
function countTokens(text) {
  return (text.match(/\s*(?:[\p{L}\p{N}]+|[^\s])|\s+$/gsu) ?? []).length;
}

/** A deterministic, varied markdown document of about `target` tokens. */
function generateMarkdown(target) {
  let seed = 42;
  const random = () => {
    seed = (seed * 1664525 + 1013904223) % 4294967296;
    return seed / 4294967296;
  };
  const pick = (list) => list[Math.floor(random() * list.length)];
  const words = (
    'stream token model answer browser render block paragraph server latency buffer frame ' +
    'incremental parser markdown table list code fence request response event reader chunk ' +
    'client network river rill water small quick steady pace layout style script thread'
  ).split(' ');
  const sentence = () => {
    const n = 8 + Math.floor(random() * 14);
    const parts = [];
    for (let i = 0; i < n; i += 1) {
      let w = pick(words);
      const r = random();
      if (r < 0.05) w = `**${w}**`;
      else if (r < 0.09) w = `*${w}*`;
      else if (r < 0.12) w = `\`${w}()\``;
      else if (r < 0.14) w = `[${w}](https://example.com/${w})`;
      parts.push(w);
    }
    const s = parts.join(' ');
    return `${s[0].toUpperCase()}${s.slice(1)}.`;
  };
  const paragraph = () => Array.from({ length: 2 + Math.floor(random() * 4) }, sentence).join(' ');
  const code = {
    rust: 'fn main() {\n    let tokens = vec!["a", "b", "c"];\n    for (i, t) in tokens.iter().enumerate() {\n        println!("{i}: {t}");\n    }\n}',
    python: 'def stream(tokens):\n    """Yield each token as it arrives."""\n    for token in tokens:\n        if token.strip():\n            yield token.upper()\n',
    javascript: 'const reader = response.body.getReader();\nfor (;;) {\n  const { value, done } = await reader.read();\n  if (done) break;\n  parser.push(value);\n}',
    bash: 'cargo build --release\n./target/release/rill serve --port 8080 &\ncurl -N http://127.0.0.1:8080/v1/models',
    json: '{\n  "model": "smollm2",\n  "stream": true,\n  "messages": [{ "role": "user", "content": "hi" }]\n}',
  };
  const blocks = [];
  let tokens = 0;
  let section = 1;
  const push = (block) => {
    blocks.push(block);
    tokens += countTokens(`${block}\n\n`);
  };
  while (tokens < target) {
    push(`## ${section}. ${sentence().slice(0, -1)}`);
    section += 1;
    push(paragraph());
    const kind = random();
    if (kind < 0.3) {
      const lang = pick(Object.keys(code));
      push(`\`\`\`${lang}\n${code[lang]}\n\`\`\``);
    } else if (kind < 0.5) {
      const rows = Array.from({ length: 3 + Math.floor(random() * 4) }, (_, i) => `| ${pick(words)} | ${i * 17 + 3} ms | ${pick(words)} ${pick(words)} |`);
      push(['| name | time | notes |', '|------|-----:|-------|', ...rows].join('\n'));
    } else if (kind < 0.7) {
      const items = Array.from({ length: 3 + Math.floor(random() * 4) }, () => `- ${sentence()}`);
      items.splice(1, 0, `  - ${sentence()}`);
      push(items.join('\n'));
    } else if (kind < 0.85) {
      push(Array.from({ length: 3 + Math.floor(random() * 3) }, (_, i) => `${i + 1}. ${sentence()}`).join('\n'));
    } else {
      push(`> ${sentence()}\n> ${sentence()}`);
    }
    push(paragraph());
  }
  return blocks.join('\n\n');
}

function writeConfig(dir, text) {
  const path = join(dir, 'rill-render-bench.toml');
  // JSON string escapes are valid TOML basic-string escapes.
  writeFileSync(
    path,
    `[[models]]\nname = "bench"\nprovider = "scripted"\nscript = { tokens_per_second = ${RATE}, text = ${JSON.stringify(text)} }\n`,
  );
  return path;
}

/** Sums the renderer main thread's RunTask events of a Chromium trace. */
function mainThreadTasks(trace, startUs, endUs) {
  const events = JSON.parse(trace.toString('utf8'));
  const list = Array.isArray(events) ? events : events.traceEvents;
  // Performance.getMetrics and the trace share Chromium's monotonic clock; if they did
  // not (no task inside the window), count the whole trace.
  const inWindow = list.some((e) => e.name === 'RunTask' && e.ts >= startUs && e.ts <= endUs);
  if (!inWindow) {
    startUs = -Infinity;
    endUs = Infinity;
  }
  const mains = new Set();
  for (const e of list) {
    if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain') mains.add(`${e.pid}:${e.tid}`);
  }
  const perThread = new Map();
  for (const e of list) {
    if (e.ph !== 'X' || e.name !== 'RunTask' || !mains.has(`${e.pid}:${e.tid}`)) continue;
    if (e.ts < startUs || e.ts > endUs) continue;
    const key = `${e.pid}:${e.tid}`;
    const t = perThread.get(key) ?? { total: 0, longest: 0, count: 0, over50: 0 };
    const dur = e.dur ?? 0;
    t.total += dur;
    t.longest = Math.max(t.longest, dur);
    t.count += 1;
    if (dur > 50000) t.over50 += 1;
    perThread.set(key, t);
  }
  // The page under test is the busiest renderer.
  return [...perThread.values()].sort((a, b) => b.total - a.total)[0] ?? { total: 0, longest: 0, count: 0, over50: 0 };
}

async function run(browser, url, mode, expectedTokens) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (window.__benchStart !== undefined && entry.startTime >= window.__benchStart) window.__longTasks.push(entry.duration);
      }
    }).observe({ type: 'longtask' });
  });
  await page.goto(`${url}/${mode === 'naive' ? '?render=naive' : ''}`);
  await page.waitForSelector('html[data-ready="true"]');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="model-select"] option')].some((o) => o.value === 'bench'));
  await page.selectOption('[data-testid="model-select"]', 'bench');
  await page.fill('[data-testid="prompt"]', 'Write the long answer.');

  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel'] });
  const before = await metric();
  const startUs = before.Timestamp * 1e6;
  await page.evaluate(() => {
    window.__benchStart = performance.now();
  });
  const started = Date.now();
  await page.press('[data-testid="prompt"]', 'Enter');
  // No polling of the page while it works (a busy main thread answers late anyway).
  const timeout = (mode === 'naive' ? NAIVE_TIMEOUT_S : 120) * 1000;
  let finished = true;
  try {
    await page.waitForFunction(() => document.querySelector('[data-role="assistant"]')?.dataset.status !== 'streaming', null, {
      timeout,
      polling: 500,
    });
    // The last render happens in the frame after the stream ends.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  } catch {
    finished = false;
  }
  const wallS = (Date.now() - started) / 1000;
  const after = await metric();
  const trace = await browser.stopTracing();
  if (args['trace-out']) writeFileSync(`${args['trace-out']}.${mode}.json`, trace);
  const tasks = mainThreadTasks(trace, startUs, after.Timestamp * 1e6);
  const page_ = await page.evaluate(() => {
    const answer = document.querySelector('[data-role="assistant"] [data-testid="answer"]');
    return {
      status: document.querySelector('[data-role="assistant"]').dataset.status,
      longTasks: window.__longTasks,
      chars: answer.textContent.length,
      codeBlocks: answer.querySelectorAll('.code-block').length,
      tables: answer.querySelectorAll('table').length,
      headings: answer.querySelectorAll('h2').length,
      metrics: document.querySelector('[data-role="assistant"] [data-testid="metrics"]').textContent,
    };
  });
  await context.close();
  return {
    mode,
    finished,
    wallS,
    idealS: expectedTokens / RATE,
    taskDurationS: after.TaskDuration - before.TaskDuration,
    traceBusyS: tasks.total / 1e6,
    longestMs: tasks.longest / 1000,
    over50: tasks.over50,
    longTaskCount: page_.longTasks.length,
    longTaskMaxMs: page_.longTasks.length ? Math.max(...page_.longTasks) : 0,
    page: page_,
  };
}

const text = generateMarkdown(TOKENS);
const tokens = countTokens(text);
const dir = mkdtempSync(join(tmpdir(), 'rill-render-bench-'));
const rill = await startRill(writeConfig(dir, text));
const browser = await launchBrowser();
const results = [];
try {
  console.log(`answer: ${tokens} tokens, ${text.length} characters, streamed at ${RATE} tokens/s (${(tokens / RATE).toFixed(1)} s)`);
  for (const mode of MODES) {
    process.stdout.write(`running ${mode}... `);
    const r = await run(browser, rill.url, mode, tokens);
    console.log(r.finished ? `done in ${r.wallS.toFixed(1)} s` : `NOT finished after ${r.wallS.toFixed(0)} s`);
    results.push(r);
  }
} finally {
  await browser.close();
  await rill.stop();
  rmSync(dir, { recursive: true, force: true });
}

const rows = [
  ['renderer', 'finished', 'wall s', 'stream s', 'main thread busy s (trace)', 'TaskDuration s', 'longest task ms', 'tasks > 50 ms (trace)', 'longtask entries', 'answer chars', 'code/tables/h2'],
  ...results.map((r) => [
    r.mode,
    r.finished ? 'yes' : `no (${r.page.status})`,
    r.wallS.toFixed(1),
    r.idealS.toFixed(1),
    r.traceBusyS.toFixed(2),
    r.taskDurationS.toFixed(2),
    r.longestMs.toFixed(1),
    String(r.over50),
    r.longTaskCount ? `${r.longTaskCount} (max ${r.longTaskMaxMs.toFixed(0)} ms)` : '0',
    String(r.page.chars),
    `${r.page.codeBlocks}/${r.page.tables}/${r.page.headings}`,
  ]),
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
const line = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
console.log();
console.log(line(rows[0]));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows.slice(1)) console.log(line(row));
for (const r of results) console.log(`${r.mode}: page metrics line "${r.page.metrics}"`);
