// Markdown -> safe DOM: marked for parsing, highlight.js for code, DOMPurify last.

import { Marked } from 'marked';
import { highlight, languageFor } from './highlight.js';
import { sanitize } from './sanitize.js';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

const SAFE_URL = /^(?:https?|mailto):/i;

/** The URL if it is http(s) or mailto (after the decoding browsers do), else null. */
export function safeUrl(href) {
  if (typeof href !== 'string') return null;
  // Browsers drop control characters and whitespace inside a scheme: check what they would.
  const cleaned = href.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  return SAFE_URL.test(cleaned) ? href.trim() : null;
}

const md = new Marked({ gfm: true, breaks: false });
md.use({
  renderer: {
    // Raw HTML from the model is shown as text, never interpreted.
    html(token) {
      const text = escapeHtml(token.text);
      return token.block ? `<p class="raw-html">${text.replace(/\n+$/, '')}</p>\n` : `<span class="raw-html">${text}</span>`;
    },
    code({ text, lang }) {
      const info = (lang || '').trim().split(/\s+/)[0];
      const language = languageFor(info);
      const body = (language && highlight(text, language)) || escapeHtml(text);
      // The label travels as a class (the sanitizer keeps classes, not data attributes).
      const name = info.toLowerCase().replace(/[^a-z0-9+#._-]/g, '').slice(0, 30);
      return `<pre><code class="hljs${name ? ` language-${name}` : ''}">${body}</code></pre>\n`;
    },
    link({ href, title, tokens }) {
      const text = this.parser.parseInline(tokens);
      const url = safeUrl(href);
      if (!url) return `<span class="unsafe-link">${text}</span>`;
      const t = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(url)}"${t} target="_blank" rel="noopener noreferrer">${text}</a>`;
    },
    // Images are shown as links: remote images would not load under the page's CSP, and
    // an answer should not make the browser fetch anything by itself.
    image({ href, text }) {
      const url = safeUrl(href);
      const label = escapeHtml(text || 'image');
      if (!url) return `<span class="image-alt">${label}</span>`;
      return `<a class="image-link" href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
    },
    checkbox({ checked }) {
      return `<span class="task" aria-label="${checked ? 'done' : 'not done'}">${checked ? '☑' : '☐'}</span> `;
    },
  },
});

/** marked's block lexer. */
export const lex = (src) => md.lexer(src);

/** HTML (unsanitized) for block tokens. */
const toHtml = (tokens) => md.parser(tokens);

/**
 * Renders markdown, or already-lexed block tokens, to a sanitized fragment with code
 * blocks and tables decorated.
 * @param {string | object[]} input
 * @returns {DocumentFragment}
 */
export function renderMarkdown(input) {
  const html = typeof input === 'string' ? md.parse(input) : toHtml(input);
  const fragment = sanitize(html);
  decorate(fragment);
  return fragment;
}

/** Adds a header with the language and a copy button to code blocks; wraps tables. */
function decorate(root) {
  for (const pre of root.querySelectorAll('pre')) {
    const wrap = document.createElement('div');
    wrap.className = 'code-block';
    const head = document.createElement('div');
    head.className = 'code-head';
    const lang = document.createElement('span');
    lang.className = 'code-lang';
    const cls = pre.querySelector('code')?.className.match(/(?:^| )language-(\S+)/);
    lang.textContent = cls ? cls[1] : 'text';
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'copy-code';
    copy.dataset.testid = 'copy-code';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', 'Copy code');
    head.append(lang, copy);
    pre.replaceWith(wrap);
    wrap.append(head, pre);
  }
  for (const table of root.querySelectorAll('table')) {
    const wrap = document.createElement('div');
    wrap.className = 'table-wrap';
    table.replaceWith(wrap);
    wrap.append(table);
  }
}
