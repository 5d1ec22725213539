// The conversation (with any answer still streaming) and small preferences, kept in
// localStorage so a reload does not lose them. Saving while streaming is throttled.
// Storage can be full or disabled: then nothing is kept, and nothing breaks.

const CONVERSATION = 'rill.conversation.v1';
const MODEL = 'rill.model';
const PROMPT = 'rill.prompt';
const KEY = 'rill.key';

function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // full or unavailable: keep going without it
  }
}

/** The saved messages, or []. */
export function loadConversation() {
  const raw = read(CONVERSATION);
  if (!raw) return [];
  try {
    const saved = JSON.parse(raw);
    return Array.isArray(saved?.messages) ? saved.messages.filter(isMessage) : [];
  } catch {
    return [];
  }
}

function isMessage(m) {
  return m && (m.role === 'user' || m.role === 'assistant') && typeof m.content === 'string';
}

export const savedModel = () => read(MODEL);
export const saveModel = (model) => write(MODEL, model || null);
export const savedPrompt = () => read(PROMPT) ?? '';

/**
 * The rill API key the person typed in, when the server needs one. Kept in
 * sessionStorage only: it lasts while the tab does and is never written to disk by the
 * page, unlike the conversation.
 */
export function savedKey() {
  try {
    return sessionStorage.getItem(KEY) || null;
  } catch {
    return null;
  }
}

export function saveKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY, key);
    else sessionStorage.removeItem(KEY);
  } catch {
    // unavailable: the key lasts as long as the page
  }
}
export const savePrompt = (text) => write(PROMPT, text ? text : null);

/** Saves the conversation at most every `interval` ms (the last state always lands). */
export class ConversationStore {
  constructor(getMessages, interval = 400) {
    this.getMessages = getMessages;
    this.interval = interval;
    this.timer = null;
    this.last = 0;
    /** When set, saves are skipped (the page is unloading). */
    this.paused = false;
  }

  /** Save soon (throttled): for updates while streaming. */
  saveSoon() {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.last + this.interval - Date.now());
    this.timer = setTimeout(() => this.saveNow(), wait);
  }

  /** Save at once: after a message is added, finished or removed. */
  saveNow() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.paused) return;
    this.last = Date.now();
    const messages = this.getMessages();
    if (messages.length === 0) write(CONVERSATION, null);
    else write(CONVERSATION, JSON.stringify({ version: 1, messages }));
  }
}
