// useChat's own code (AbstractChat + DefaultChatTransport of each pinned `ai` version)
// against a real `rill serve` over loopback: no custom code on the client side.
//
//   RILL_BIN=target/debug/rill node --test   (in this folder, after npm ci)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { VERSIONS, makeChat, parts, until } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const STORY = 'Once upon a time, a stream of tokens flowed to a person.';

const CONFIG = `
[[models]]
name = "story"
provider = "scripted"
script = { text = "${STORY}", tokens_per_second = 200 }

[[models]]
name = "weather-tool"
provider = "scripted"
script = { text = "Checking.", tool_calls = [{ name = "get_weather", arguments = '{"city":"Paris"}' }] }

[[models]]
name = "flaky"
provider = "scripted"
script = { text = "This breaks off in the middle", error_after = 3 }
`;

let rill;
let url;
before(async () => {
  const bin = path.resolve(process.env.RILL_BIN ?? path.join(here, '../../../../target/debug/rill'));
  const dir = await mkdtemp(path.join(tmpdir(), 'rill-ui-'));
  const config = path.join(dir, 'rill.toml');
  await writeFile(config, CONFIG);
  rill = spawn(bin, ['serve', '--config', config, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise((resolve, reject) => {
    let out = '';
    rill.stdout.setEncoding('utf8');
    rill.stdout.on('data', (d) => {
      out += d;
      const match = out.match(/rill listening on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    rill.once('exit', (code) => reject(new Error(`rill exited (${code})`)));
  });
});
after(() => rill?.kill('SIGTERM'));

for (const version of VERSIONS) {
  const ai = require(version);

  test(`${version}: a message streams in from rill's first model (no model sent)`, async () => {
    const { chat, chunks } = makeChat(ai, { api: `${url}/api/chat` });
    await chat.sendMessage({ text: 'tell me a story' });
    await until(() => chat.status === 'ready', 'the answer');
    assert.equal(chat.error, undefined);
    const answer = chat.messages.at(-1);
    assert.equal(answer.role, 'assistant');
    assert.deepEqual(parts(answer).filter((p) => p.type === 'text'), [{ type: 'text', text: STORY }]);
    assert.ok(chunks.filter((c) => c.type === 'text-delta').length > 5, 'streamed in many deltas');
    assert.equal(answer.metadata?.usage?.outputTokens > 0, true, 'usage in the message metadata');
  });

  test(`${version}: tool calls arrive as tool parts with their input`, async () => {
    const { chat } = makeChat(ai, { api: `${url}/api/chat`, body: { model: 'weather-tool' } });
    await chat.sendMessage({ text: 'weather?' });
    await until(() => chat.status === 'ready', 'the answer');
    const tool = parts(chat.messages.at(-1)).find((p) => p.type === 'tool-get_weather');
    assert.deepEqual(tool?.input, { city: 'Paris' });
  });

  test(`${version}: a mid-stream error keeps the partial text and reaches error`, async () => {
    const { chat } = makeChat(ai, { api: `${url}/api/chat`, body: { model: 'flaky' } });
    await chat.sendMessage({ text: 'go' });
    await until(() => chat.status === 'error', 'the error');
    assert.match(chat.error.message, /error/i);
    const text = parts(chat.messages.at(-1)).find((p) => p.type === 'text');
    assert.equal(text?.text, 'This breaks off');
  });

  test(`${version}: an unknown model is a readable error`, async () => {
    const { chat } = makeChat(ai, { api: `${url}/api/chat`, body: { model: 'no-such-model' } });
    await chat.sendMessage({ text: 'go' });
    await until(() => chat.status === 'error', 'the error');
    assert.match(chat.error.message, /no-such-model/);
  });
}
