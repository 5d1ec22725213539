// The baseline the render benchmark compares against: parse and render the whole answer
// again for every token. Chosen with `?render=naive`; never used otherwise.

import { renderMarkdown } from './render.js';

export class NaiveRenderer {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    /** Render on every token instead of once per animation frame. */
    this.perToken = true;
  }

  reset() {
    this.root.replaceChildren();
  }

  render(text) {
    this.root.replaceChildren(renderMarkdown(text));
  }
}
