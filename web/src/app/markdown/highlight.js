// Syntax highlighting for code blocks: highlight.js core with a few common languages,
// registered by hand so the bundle carries only these.

import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const languages = { bash, cpp, css, diff, go, ini, javascript, json, python, rust, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);
hljs.registerAliases(['sh', 'shell', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['toml'], { languageName: 'ini' });
hljs.registerAliases(['c', 'h'], { languageName: 'cpp' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });
hljs.configure({ ignoreUnescapedHTML: true });

/** The registered language for a fence's info string, or null. */
export function languageFor(info) {
  const name = (info || '').trim().split(/\s+/)[0].toLowerCase();
  if (!name) return null;
  const language = hljs.getLanguage(name);
  return language ? name : null;
}

/**
 * Highlighted HTML for `code` (escaped; only `<span class="hljs-...">` markup), or null
 * when the language is not one of those registered.
 */
export function highlight(code, info) {
  const language = languageFor(info);
  if (!language) return null;
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}
