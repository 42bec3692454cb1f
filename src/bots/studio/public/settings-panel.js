// The settings panel: the studio's defaults (anyone here may set them) and the user's own. Save sends only what
// changed; a field set back to Default clears that setting. The server's core checks every value and answers with
// what was saved, or one sentence saying why not, shown here.

import { t } from './i18n.js';

/** The form's text for a stored value ('' = Default). */
const shown = (name, value) => {
  if (value === undefined) return '';
  if (name === 'othersMayPress') return value ? 'on' : 'off';
  return String(value);
};

/** The form's text → the value the server expects ('default' clears). */
const sent = (name, text) => {
  if (text === '') return 'default';
  if (name === 'count') return Number(text);
  if (name === 'othersMayPress') return text === 'on';
  return text;
};

const option = (value, label) => {
  const element = document.createElement('option');
  element.value = value;
  element.textContent = label;
  return element;
};

export function createSettingsPanel(dialog, { request, save }) {
  const lines = dialog.querySelector('#settings-lines');
  const saved = dialog.querySelector('#settings-saved');
  const error = dialog.querySelector('#settings-error');
  const ratios = dialog.querySelector('#settings-ratios');
  const forms = [...dialog.querySelectorAll('form.settings-form')];
  /** The settings as last received, by target. */
  let current = { channel: {}, personal: {} };

  const fieldsOf = (form) => [...form.elements].filter((element) => element.name);
  const changes = (form) => {
    const stored = current[form.dataset.target];
    const values = {};
    for (const field of fieldsOf(form)) {
      if (field.closest('[hidden]')) continue;
      const value = field.value.trim();
      if (value !== shown(field.name, stored[field.name])) values[field.name] = sent(field.name, value);
    }
    return values;
  };
  const updateSave = (form) => {
    form.querySelector('button[type="submit"]').disabled = Object.keys(changes(form)).length === 0;
  };

  function fillChoices(form, choices) {
    const counts = Array.from({ length: choices.maxCount }, (_, i) => option(String(i + 1), String(i + 1)));
    const styles = choices.styles.map((style) => option(style.name, style.label === style.name ? style.name : `${style.label} (${style.name})`));
    for (const field of fieldsOf(form)) {
      if (field.name === 'count') field.replaceChildren(option('', t('default')), ...counts);
      if (field.name === 'style') field.replaceChildren(option('', t('default')), ...styles);
      if (field.name === 'othersMayPress') field.replaceChildren(option('', t('default')), option('on', t('yes')), option('off', t('no')));
      if (field.name === 'policy') {
        field.replaceChildren(option('', t('default')), ...choices.policies.map((p) => option(p, t(p === 'spoiler' ? 'policySpoiler' : 'policyBlock'))));
        // Only `block` to choose and nothing looser: the field still says which applies, and lets it be set.
        field.closest('label').hidden = choices.policies.length === 0;
      }
    }
  }

  for (const form of forms) {
    form.addEventListener('input', () => updateSave(form));
    form.addEventListener('change', () => updateSave(form));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = changes(form);
      if (Object.keys(values).length === 0) return;
      error.hidden = true;
      saved.textContent = '';
      save(form.dataset.target, values);
    });
  }

  return {
    isOpen: () => dialog.open,
    open() {
      error.hidden = true;
      saved.textContent = '';
      if (!dialog.open) dialog.showModal();
      request();
    },
    show(message) {
      const { settings } = message;
      current = { channel: settings.channel, personal: settings.personal };
      lines.replaceChildren(
        ...settings.lines.map((line) => {
          const item = document.createElement('li');
          item.textContent = line;
          return item;
        }),
      );
      ratios.replaceChildren(...settings.choices.ratios.map((ratio) => option(ratio, ratio)));
      for (const form of forms) {
        fillChoices(form, settings.choices);
        const stored = current[form.dataset.target];
        for (const field of fieldsOf(form)) field.value = shown(field.name, stored[field.name]);
        form.querySelector('fieldset').disabled = form.dataset.target === 'channel' && !settings.canConfigure;
        updateSave(form);
      }
      saved.textContent = message.saved ?? '';
      error.hidden = true;
    },
    fail(text) {
      error.textContent = text;
      error.hidden = false;
    },
  };
}
