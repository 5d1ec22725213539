// Every piece of HTML made from model output passes through here before it reaches the
// page. The markdown renderer already escapes raw HTML and drops unsafe URLs; DOMPurify
// is the second wall: only plain formatting elements survive, no event handlers, no
// styles, and only http(s) and mailto links, which open in a new tab without a referrer.

import DOMPurify from 'dompurify';

const purify = DOMPurify(window);

const CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    'style', 'link', 'meta', 'base', 'form', 'input', 'button', 'textarea', 'select', 'option',
    'iframe', 'frame', 'frameset', 'object', 'embed', 'img', 'picture', 'source', 'video',
    'audio', 'track', 'canvas', 'svg', 'math', 'template', 'dialog', 'details', 'summary',
  ],
  FORBID_ATTR: ['style', 'id', 'name', 'srcset', 'action', 'formaction', 'target', 'tabindex'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOWED_URI_REGEXP: /^(?:https?|mailto):/i,
  RETURN_DOM_FRAGMENT: true,
};

purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.nodeName !== 'A') return;
  const href = node.getAttribute('href');
  if (href && /^(?:https?|mailto):/i.test(href.trim())) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  } else {
    node.removeAttribute('href');
  }
});

/**
 * @param {string} html
 * @returns {DocumentFragment}
 */
export function sanitize(html) {
  return purify.sanitize(html, CONFIG);
}
