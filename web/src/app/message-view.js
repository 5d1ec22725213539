// One message in the conversation. A user message is plain text. An assistant message
// shows, top to bottom: its reasoning (collapsed, dim), a typing indicator until the
// first token, the answer as markdown, tool calls, a note (stopped, interrupted, cut at
// the length limit), an inline error, and a footer with TTFT and tokens/s and the Copy
// and Retry buttons. All DOM work happens in `flush`, which the page runs at most once
// per animation frame.

import { h } from './dom.js';
import { describeError, describeMetrics } from './format.js';

const NOTES = {
  stopped: 'Stopped.',
  interrupted: 'This answer was interrupted when the page was closed or reloaded. The text so far is kept.',
};

export function userMessageView(message) {
  const el = h(
    'article',
    { class: 'msg msg-user', dataset: { testid: 'message', role: 'user' }, 'aria-label': 'You said' },
    h('div', { class: 'bubble', dataset: { testid: 'user-text' } }, message.content),
  );
  return { el, message, flush() {}, invalidate() {} };
}

export class AssistantMessageView {
  /**
   * @param {object} message the message state (mutated by the controller)
   * @param {{ scheduler: import('./frame.js').FrameScheduler,
   *   createRenderer: (root: HTMLElement) => {render(text: string, final?: boolean): void, perToken?: boolean},
   *   onRetry: () => void, onCopy: (button: HTMLButtonElement, text: string) => void }} deps
   */
  constructor(message, { scheduler, createRenderer, onRetry, onCopy }) {
    this.message = message;
    this.scheduler = scheduler;
    this.canRetry = false;
    this.flush = this.flush.bind(this);
    this.renderedText = null;
    this.renderedFinal = false;
    this.errorShown = null;

    this.reasoningBody = h('div', { class: 'reasoning-body' });
    this.reasoningLabel = h('span', {}, 'Reasoning');
    this.reasoning = h(
      'details',
      { class: 'reasoning', dataset: { testid: 'reasoning' }, hidden: true },
      h('summary', {}, this.reasoningLabel),
      this.reasoningBody,
    );
    this.typing = h(
      'div',
      { class: 'typing', dataset: { testid: 'typing' }, role: 'status', 'aria-label': 'rill is writing' },
      h('span'),
      h('span'),
      h('span'),
    );
    this.answer = h('div', {
      class: 'answer md',
      dataset: { testid: 'answer' },
      'aria-live': 'polite',
      'aria-busy': 'false',
    });
    this.renderer = createRenderer(this.answer);
    this.tools = h('div', { class: 'tool-calls', dataset: { testid: 'tool-calls' }, hidden: true });
    this.refusal = h('p', { class: 'refusal', hidden: true });
    this.note = h('p', { class: 'msg-note', dataset: { testid: 'message-note' }, hidden: true });
    this.error = h('div', { class: 'msg-error', role: 'alert', dataset: { testid: 'message-error' }, hidden: true });
    this.metrics = h('span', { class: 'metrics', dataset: { testid: 'metrics' } });
    this.copyButton = h(
      'button',
      { type: 'button', class: 'action', dataset: { testid: 'copy-answer' }, 'aria-label': 'Copy answer' },
      'Copy',
    );
    this.copyButton.addEventListener('click', () => onCopy(this.copyButton, this.message.content));
    this.retryButton = h(
      'button',
      { type: 'button', class: 'action', dataset: { testid: 'retry' }, 'aria-label': 'Retry this answer' },
      'Retry',
    );
    this.retryButton.addEventListener('click', () => onRetry());
    this.actions = h('div', { class: 'actions' }, this.copyButton, this.retryButton);
    this.foot = h('div', { class: 'msg-foot' }, this.metrics, this.actions);

    this.el = h(
      'article',
      { class: 'msg msg-assistant', dataset: { testid: 'message', role: 'assistant' }, 'aria-label': 'rill answered' },
      this.reasoning,
      this.typing,
      this.answer,
      this.refusal,
      this.tools,
      this.note,
      this.error,
      this.foot,
    );
    this.flush();
  }

  /** The message changed: update in the next frame. */
  invalidate() {
    this.scheduler.schedule(this.flush);
  }

  /** New answer text arrived. */
  textChanged() {
    if (this.renderer.perToken) this.renderText();
    this.invalidate();
  }

  setCanRetry(canRetry) {
    if (this.canRetry === canRetry) return;
    this.canRetry = canRetry;
    this.invalidate();
  }

  renderText() {
    const m = this.message;
    const final = m.status !== 'streaming';
    if (m.content === this.renderedText && final === this.renderedFinal) return;
    this.renderer.render(m.content, final);
    this.renderedText = m.content;
    this.renderedFinal = final;
  }

  flush() {
    const m = this.message;
    const streaming = m.status === 'streaming';
    if (this.el.dataset.status !== m.status) this.el.dataset.status = m.status;

    show(this.reasoning, Boolean(m.reasoning));
    if (m.reasoning) {
      setText(this.reasoningBody, m.reasoning);
      setText(this.reasoningLabel, streaming && !m.content ? 'Thinking…' : 'Reasoning');
    }

    const started = Boolean(m.content || m.reasoning || m.refusal || m.toolCalls?.length);
    show(this.typing, streaming && !started);

    this.renderText();
    show(this.answer, Boolean(m.content));
    if (this.answer.getAttribute('aria-busy') !== String(streaming)) this.answer.setAttribute('aria-busy', String(streaming));

    show(this.refusal, Boolean(m.refusal));
    setText(this.refusal, m.refusal || '');

    this.renderTools(m.toolCalls || []);

    let note = NOTES[m.status] || '';
    if (m.status === 'done' && m.finishReason === 'length') note = 'The answer stopped at the length limit.';
    show(this.note, Boolean(note));
    setText(this.note, note);

    const error = m.status === 'error' ? describeError(m.error) : '';
    show(this.error, Boolean(error));
    if (this.errorShown !== error) {
      this.errorShown = error;
      this.error.textContent = error;
    }

    const metrics = streaming || m.status === 'interrupted' ? '' : describeMetrics(m.metrics);
    setText(this.metrics, metrics);
    show(this.copyButton, !streaming && Boolean(m.content));
    show(this.retryButton, !streaming && this.canRetry);
    show(this.foot, Boolean(metrics) || !this.copyButton.hidden || !this.retryButton.hidden);
  }

  renderTools(calls) {
    show(this.tools, calls.length > 0);
    if (calls.length === 0) {
      if (this.tools.firstChild) this.tools.replaceChildren();
      return;
    }
    while (this.tools.children.length < calls.length) {
      this.tools.append(
        h('div', { class: 'tool-call', dataset: { testid: 'tool-call' } }, h('div', { class: 'tool-name' }), h('pre', { class: 'tool-args' })),
      );
    }
    calls.forEach((call, i) => {
      const el = this.tools.children[i];
      setText(el.firstChild, `Tool call: ${call.name ?? '…'}`);
      setText(el.lastChild, prettyArguments(call));
    });
  }
}

/** Sets `hidden` only when it changes (every write is a DOM mutation). */
function show(el, visible) {
  if (el.hidden === visible) el.hidden = !visible;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function prettyArguments(call) {
  if (call.parsedArguments !== undefined && call.parsedArguments !== null) {
    try {
      return JSON.stringify(call.parsedArguments, null, 2);
    } catch {
      // fall through to the raw text
    }
  }
  return call.arguments || '';
}
