// The message box: Enter sends, Shift+Enter adds a line, the box grows with its text,
// and the Send button turns into Stop while an answer streams. What was typed but not
// sent survives a reload.

import { savedPrompt, savePrompt } from './storage.js';

export class Composer {
  constructor({ form, input, send, stop, onSend, onStop }) {
    this.form = form;
    this.input = input;
    this.send = send;
    this.stop = stop;
    this.streaming = false;
    input.value = savedPrompt();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit(onSend);
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        this.submit(onSend);
      }
    });
    input.addEventListener('input', () => {
      savePrompt(input.value);
      this.refresh();
    });
    stop.addEventListener('click', () => onStop());
    this.refresh();
  }

  submit(onSend) {
    const text = this.input.value.trim();
    if (!text || this.streaming) return;
    if (onSend(text) === false) return;
    this.input.value = '';
    savePrompt('');
    this.refresh();
    this.input.focus();
  }

  setStreaming(streaming) {
    this.streaming = streaming;
    const hadFocus = document.activeElement === this.stop || document.activeElement === this.send;
    this.send.hidden = streaming;
    this.stop.hidden = !streaming;
    if (hadFocus) (streaming ? this.stop : this.input).focus();
    this.refresh();
  }

  refresh() {
    this.send.disabled = this.input.value.trim() === '';
    // Grow with the text, up to the CSS max-height.
    this.input.style.height = 'auto';
    this.input.style.height = `${this.input.scrollHeight}px`;
  }
}
