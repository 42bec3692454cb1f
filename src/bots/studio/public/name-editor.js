// The name in the header, edited in place: click it, type, Enter saves, Escape (or leaving the field) keeps the old
// one. A name the server would refuse is never saved: the field says why and stays open.

import { MAX_NAME, validName } from './identity.js';

export function createNameEditor({ button, box, input, error }, { name, onRename, onClose }) {
  let current = name;
  button.textContent = current;

  /** By keyboard (Enter, Escape) the typing goes back to the composer; a click elsewhere keeps its own focus. */
  const close = (byKeyboard) => {
    box.hidden = true;
    error.hidden = true;
    input.removeAttribute('aria-invalid');
    button.hidden = false;
    if (byKeyboard) onClose();
  };

  const open = () => {
    input.value = current;
    input.maxLength = MAX_NAME;
    button.hidden = true;
    box.hidden = false;
    input.focus();
    input.select();
  };

  const save = () => {
    const next = input.value.trim();
    if (!validName(next)) {
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      return;
    }
    const changed = next !== current;
    current = next;
    button.textContent = current;
    close(true);
    if (changed) onRename(current);
  };

  button.addEventListener('click', open);
  input.addEventListener('keydown', (event) => {
    // Enter while an input method is composing (pinyin) picks a candidate; it does not save.
    if (event.key === 'Enter' && !event.isComposing) {
      event.preventDefault();
      save();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      close(true);
    }
  });
  input.addEventListener('input', () => {
    error.hidden = true;
    input.removeAttribute('aria-invalid');
  });
  input.addEventListener('blur', () => {
    if (!box.hidden) close(false);
  });

  return {
    /** Shows a name chosen elsewhere (another tab of this browser). */
    show(name) {
      current = name;
      button.textContent = current;
    },
  };
}
