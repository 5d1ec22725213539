// The conversation: sending a turn with the whole history, streaming the answer into its
// view, Stop, Retry, New chat, and keeping a draft in storage as the answer streams.
// Answers are resumable: after a reload an answer that was still streaming is followed
// again from rill's log (from its start, so the text is rebuilt whole, nothing twice).

import { streamChat } from '../client/index.js';
import { AssistantMessageView, userMessageView } from './message-view.js';
import { ConversationStore, loadConversation, savedKey } from './storage.js';

let nextId = 1;
const newId = () => `m${Date.now().toString(36)}${(nextId++).toString(36)}`;

export class ChatController {
  /**
   * @param {{ list: HTMLElement, empty: HTMLElement, scheduler: import('./frame.js').FrameScheduler,
   *   createRenderer: Function, picker: import('./model-picker.js').ModelPicker,
   *   composer: () => import('./composer.js').Composer, scroll: import('./scroll.js').AutoScroll,
   *   onCopy: Function }} deps
   */
  constructor(deps) {
    this.deps = deps;
    this.messages = [];
    this.views = new Map();
    this.current = null;
    this.store = new ConversationStore(() => this.messages.map(persistable));
    // While the page unloads, the browser cuts the answer's request: that is not the
    // answer's fate (rill goes on generating a resumable answer for a grace period), so
    // nothing is saved then: the draft stays "streaming", and the reloaded page follows it.
    this.unloading = false;
    this.unloadTimer = null;
  }

  get streaming() {
    return this.current !== null;
  }

  /**
   * Shows the saved conversation. The last answer, if it was still streaming, is followed
   * again (rill kept generating it); any other unfinished one is marked interrupted.
   */
  restore() {
    const saved = loadConversation();
    let resume = null;
    for (const [index, message] of saved.entries()) {
      message.id ??= newId();
      const view = this.append(message);
      if (message.status !== 'streaming') continue;
      if (index === saved.length - 1 && message.streamId) resume = { message, view };
      else message.status = 'interrupted';
    }
    this.refreshRetry();
    this.store.saveNow();
    this.deps.scroll.reset();
    if (resume) {
      const stream = streamChat({ resume: { streamId: resume.message.streamId }, apiKey: savedKey() ?? undefined });
      this.follow(resume.message, resume.view, stream, { replay: true });
    }
  }

  /** Sends a user turn and streams the answer. Returns false when it cannot send now. */
  send(text) {
    if (this.streaming) return false;
    this.append({ id: newId(), role: 'user', content: text });
    this.deps.scroll.reset();
    this.answer();
    return true;
  }

  stop() {
    this.current?.stream.abort();
  }

  /** Regenerates the last answer (after an error, a stop, an interruption, or just again). */
  retry() {
    if (this.streaming) return;
    const last = this.messages.at(-1);
    if (!last || last.role !== 'assistant') return;
    this.remove(last);
    this.answer();
  }

  newChat() {
    this.stop();
    this.current = null;
    for (const message of [...this.messages]) this.remove(message);
    this.store.saveNow();
    this.deps.composer().setStreaming(false);
    this.deps.scroll.reset();
  }

  async answer() {
    const history = this.messages
      .filter((m) => m.role === 'user' || (m.role === 'assistant' && m.content))
      .map((m) => ({ role: m.role, content: m.content }));
    const model = this.deps.picker.value;
    const message = {
      id: newId(),
      role: 'assistant',
      content: '',
      reasoning: '',
      refusal: '',
      toolCalls: [],
      status: 'streaming',
      model,
    };
    const view = this.append(message);
    this.refreshRetry();
    this.store.saveNow();

    const stream = streamChat({
      model: model || undefined,
      messages: history,
      resumable: true,
      apiKey: savedKey() ?? undefined,
    });
    await this.follow(message, view, stream);
  }

  /**
   * Streams `stream` into `message` and its view. With `replay`, the stream starts over
   * from the beginning of the answer (a resume after a reload): what was saved is
   * replaced as the replay comes in.
   */
  async follow(message, view, stream, { replay = false } = {}) {
    const current = { stream, message };
    this.current = current;
    this.deps.composer().setStreaming(true);
    this.refreshRetry();

    for await (const event of stream) {
      switch (event.type) {
        case 'start':
          if (replay) {
            Object.assign(message, { content: '', reasoning: '', refusal: '', toolCalls: [] });
            view.invalidate();
          }
          message.streamId = event.streamId ?? message.streamId ?? null;
          this.store.saveSoon();
          break;
        case 'text':
          message.content = event.text;
          view.textChanged();
          this.store.saveSoon();
          break;
        case 'reasoning':
          message.reasoning = event.reasoning;
          view.invalidate();
          this.store.saveSoon();
          break;
        case 'refusal':
          message.refusal = event.refusal;
          view.invalidate();
          break;
        case 'tool_call':
          message.toolCalls = stream.toolCalls.map((c) => ({ ...c }));
          view.invalidate();
          break;
        case 'done':
          message.status = 'done';
          message.finishReason = event.finishReason;
          message.metrics = event.metrics;
          break;
        case 'error':
          if (event.error.status === 401) this.deps.onUnauthorized?.();
          // A replay that finds nothing to follow (the stream expired, or the server
          // restarted): what was saved is all there is.
          if (replay && event.error.kind === 'http') {
            message.status = 'interrupted';
            message.metrics = event.metrics;
            break;
          }
          message.status = 'error';
          message.error = {
            kind: event.error.kind,
            message: event.error.message,
            status: event.error.status,
            code: event.error.code,
            retryAfter: event.error.retryAfter,
          };
          message.metrics = event.metrics;
          break;
        case 'abort':
          message.status = 'stopped';
          message.metrics = event.metrics;
          break;
        default:
          break;
      }
    }
    if (this.current !== current) return; // a new chat replaced this one
    this.current = null;
    this.deps.composer().setStreaming(false);
    view.invalidate();
    this.refreshRetry();
    this.store.saveNow();
  }

  append(message) {
    this.messages.push(message);
    const view =
      message.role === 'user'
        ? userMessageView(message)
        : new AssistantMessageView(message, {
            scheduler: this.deps.scheduler,
            createRenderer: this.deps.createRenderer,
            onRetry: () => this.retry(),
            onCopy: this.deps.onCopy,
          });
    this.views.set(message.id, view);
    this.deps.list.append(view.el);
    this.deps.empty.hidden = true;
    return view;
  }

  remove(message) {
    this.messages = this.messages.filter((m) => m !== message);
    this.views.get(message.id)?.el.remove();
    this.views.delete(message.id);
    this.deps.empty.hidden = this.messages.length > 0;
  }

  /** Only the last answer offers Retry, and only when nothing is streaming. */
  refreshRetry() {
    const last = this.messages.at(-1);
    for (const message of this.messages) {
      if (message.role !== 'assistant') continue;
      this.views.get(message.id).setCanRetry(message === last && message.status !== 'streaming');
    }
  }

  /** Saves at once (the page is hidden, maybe for good). */
  flushDraft() {
    if (!this.unloading) this.store.saveNow();
  }

  /** The page is unloading: save the draft now, and nothing after it. */
  pageUnloading() {
    if (!this.unloading) this.store.saveNow();
    this.unloading = true;
    this.store.paused = true;
    // If the page stays after all (the navigation did not happen), carry on.
    clearTimeout(this.unloadTimer);
    this.unloadTimer = setTimeout(() => {
      this.unloading = false;
      this.store.paused = false;
      this.store.saveNow();
    }, 2000);
  }
}

/** What is kept in storage for a message. */
function persistable(m) {
  if (m.role === 'user') return { id: m.id, role: 'user', content: m.content };
  return {
    id: m.id,
    role: 'assistant',
    content: m.content,
    reasoning: m.reasoning || '',
    refusal: m.refusal || '',
    toolCalls: (m.toolCalls || []).map(({ index, id, name, arguments: args, parsedArguments }) => ({
      index,
      id,
      name,
      arguments: args,
      parsedArguments,
    })),
    status: m.status,
    streamId: m.streamId ?? null,
    finishReason: m.finishReason ?? null,
    error: m.error ?? null,
    metrics: m.metrics ?? null,
    model: m.model ?? '',
  };
}
