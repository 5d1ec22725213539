// The model picker, filled from GET /v1/models; the choice is remembered.

import { listModels } from '../client/index.js';
import { h } from './dom.js';
import { savedKey, savedModel, saveModel } from './storage.js';

export class ModelPicker {
  /**
   * @param {HTMLSelectElement} select
   * @param {HTMLElement} status where a loading problem is shown
   * @param {() => void} onUnauthorized the server wants an API key (401)
   */
  constructor(select, status, onUnauthorized = () => {}) {
    this.select = select;
    this.status = status;
    this.onUnauthorized = onUnauthorized;
    select.addEventListener('change', () => saveModel(select.value));
  }

  /** The chosen model id ("" lets the server pick its default). */
  get value() {
    return this.select.value;
  }

  async load() {
    this.select.disabled = true;
    this.select.replaceChildren(h('option', { value: '' }, 'Loading models…'));
    try {
      const models = await listModels({ apiKey: savedKey() ?? undefined });
      if (models.length === 0) throw new Error('the server lists no models');
      this.select.replaceChildren(...models.map((m) => h('option', { value: m.id }, m.id)));
      const saved = savedModel();
      if (saved && models.some((m) => m.id === saved)) this.select.value = saved;
      this.status.hidden = true;
      this.status.textContent = '';
    } catch (error) {
      if (error.status === 401) this.onUnauthorized();
      this.select.replaceChildren(h('option', { value: '' }, 'Server default'));
      this.status.textContent = `Could not load the model list (${error.message}); answers use the server's default model.`;
      this.status.hidden = false;
    } finally {
      this.select.disabled = false;
    }
  }
}
