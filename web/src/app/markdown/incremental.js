// Renders a streaming answer's markdown incrementally.
//
// Blocks that are settled (see blocks.js) are rendered once into their own element and
// never touched again; only the open block at the end is re-parsed and replaced on each
// render, with its incomplete markup closed provisionally (see provisional.js). The
// caller decides when to render (the page does it at most once per animation frame).

import { splitBlocks } from './blocks.js';
import { provisional } from './provisional.js';
import { lex, renderMarkdown } from './render.js';

export class IncrementalRenderer {
  /** @param {HTMLElement} root the element the answer is rendered into */
  constructor(root) {
    this.root = root;
    this.reset();
  }

  reset() {
    this.root.replaceChildren();
    /** The settled prefix of the (normalized) text. */
    this.settledSource = '';
    this.openEl = null;
    this.openShown = null;
    this.settledCount = 0;
  }

  /**
   * Renders the whole answer so far. Text normally only grows; if it changed in the
   * settled part, everything is rendered again.
   * @param {string} text
   * @param {boolean} [final] the answer is complete: settle the last block too
   */
  render(text, final = false) {
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    if (!text.startsWith(this.settledSource)) this.reset();
    const tail = text.slice(this.settledSource.length);
    const { settled, settledLength, open } = splitBlocks(tail, lex, final);
    for (const block of settled) {
      const el = document.createElement('div');
      el.className = 'md-block';
      el.append(renderMarkdown(block.token ? [block.token] : block.raw));
      this.root.insertBefore(el, this.openEl);
      this.settledCount += 1;
    }
    if (settledLength > 0) this.settledSource = text.slice(0, this.settledSource.length + settledLength);

    if (open === '') {
      this.openEl?.remove();
      this.openEl = null;
      this.openShown = null;
      return;
    }
    const shown = provisional(open);
    if (shown === this.openShown && this.openEl) return;
    if (!this.openEl) {
      this.openEl = document.createElement('div');
      this.openEl.className = 'md-block md-open';
      this.root.append(this.openEl);
    }
    this.openEl.replaceChildren(renderMarkdown(shown));
    this.openShown = shown;
  }
}
