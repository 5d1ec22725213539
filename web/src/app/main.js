// The chat page: wires the pieces together.

import { copyWithFeedback } from './clipboard.js';
import { Composer } from './composer.js';
import { ChatController } from './controller.js';
import { byId } from './dom.js';
import { FrameScheduler } from './frame.js';
import { IncrementalRenderer } from './markdown/incremental.js';
import { NaiveRenderer } from './markdown/naive.js';
import { ModelPicker } from './model-picker.js';
import { AutoScroll } from './scroll.js';
import { saveKey, savedKey } from './storage.js';

// `?render=naive` re-renders the whole answer per token: only for the render benchmark.
const naive = new URLSearchParams(location.search).get('render') === 'naive';
const createRenderer = (root) => (naive ? new NaiveRenderer(root) : new IncrementalRenderer(root));

const scheduler = new FrameScheduler();
const scroll = new AutoScroll(byId('scroller'), byId('jump'));
scheduler.afterFrame(() => scroll.afterFrame());

// A server with API keys answers 401 until the page sends one: ask for it.
const keyForm = byId('key-form');
const askForKey = () => {
  keyForm.hidden = false;
  byId('api-key').value = savedKey() ?? '';
  byId('api-key').focus();
};
const picker = new ModelPicker(byId('model'), byId('notice'), askForKey);
keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  saveKey(byId('api-key').value.trim());
  byId('api-key').value = '';
  keyForm.hidden = true;
  picker.load();
  byId('prompt').focus();
});

let composer = null;
const chat = new ChatController({
  list: byId('messages'),
  empty: byId('empty'),
  scheduler,
  createRenderer,
  picker,
  composer: () => composer,
  scroll,
  onCopy: (button, text) => copyWithFeedback(button, text),
  onUnauthorized: askForKey,
});

composer = new Composer({
  form: byId('composer'),
  input: byId('prompt'),
  send: byId('send'),
  stop: byId('stop'),
  onSend: (text) => chat.send(text),
  onStop: () => chat.stop(),
});

byId('new-chat').addEventListener('click', () => {
  chat.newChat();
  byId('prompt').focus();
});

// Esc stops the answer, wherever the focus is.
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && chat.streaming) {
    event.preventDefault();
    chat.stop();
  }
});

// Copy buttons on code blocks (they are re-created as the answer streams, so delegate).
byId('messages').addEventListener('click', (event) => {
  const button = event.target.closest?.('.copy-code');
  if (!button) return;
  const code = button.closest('.code-block')?.querySelector('code');
  if (code) copyWithFeedback(button, code.textContent);
});

// Keep the latest partial answer when the page goes away mid-stream.
window.addEventListener('beforeunload', () => chat.pageUnloading());
window.addEventListener('pagehide', () => chat.pageUnloading());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') chat.flushDraft();
});

chat.restore();
picker.load();
byId('prompt').focus();
document.documentElement.dataset.ready = 'true';
