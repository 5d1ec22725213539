// Copies text; falls back to a selection and execCommand where the async clipboard API
// is missing (older browsers, pages that are not a secure context).

export async function copyText(text) {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall back below
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** Shows "Copied" (or a failure) on the button for a moment. */
export async function copyWithFeedback(button, text) {
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  const ok = await copyText(text);
  button.textContent = ok ? 'Copied' : 'Copy failed';
  clearTimeout(Number(button.dataset.timer));
  button.dataset.timer = String(
    setTimeout(() => {
      button.textContent = label;
    }, 1500),
  );
}
