// The board panel: the studio's most voted candidates over a window (the core's title, lines and contact sheet),
// with Refine #n per entry and Vary in a menu. Pressing one runs the job like any button; its card appears in the feed.

import { menuOf } from './feed.js';
import { t } from './i18n.js';

export function createBoardPanel(dialog, { request, onButton, has, onShow }) {
  const $ = (selector) => dialog.querySelector(selector);
  const body = $('#board-body');
  const title = $('#board-text');
  const sheet = $('#board-sheet');
  const list = $('#board-entries');
  const more = $('#board-more');
  const error = $('#board-error');
  const windowChoice = () => dialog.querySelector('input[name="since"]:checked')?.value ?? '24h';

  const load = () => {
    body.setAttribute('aria-busy', 'true');
    request(windowChoice());
  };

  const press = (id) => {
    dialog.close();
    onButton(id);
  };

  function entry(item, refine) {
    const row = document.createElement('li');
    row.className = 'board-entry';
    row.dataset.jobId = item.jobId;
    row.dataset.index = String(item.index);
    row.dataset.rank = String(item.rank);
    const line = document.createElement('p');
    line.className = 'board-line';
    line.textContent = item.line;
    const actions = document.createElement('div');
    actions.className = 'board-actions';
    if (refine) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn';
      button.dataset.style = refine.style;
      button.dataset.buttonId = refine.id;
      button.dataset.focusKey = `button:${refine.id}`;
      button.textContent = refine.label;
      button.addEventListener('click', () => press(refine.id));
      actions.append(button);
    }
    const show = document.createElement('button');
    show.type = 'button';
    show.className = 'btn show-card';
    show.dataset.style = 'ghost';
    show.dataset.focusKey = `show:${item.jobId}:${item.index}`;
    show.textContent = t('showCard');
    show.setAttribute('aria-label', t('showCardOf', { rank: item.rank }));
    if (has(item.jobId)) {
      show.addEventListener('click', () => {
        dialog.close();
        onShow(item.jobId);
      });
    } else {
      show.disabled = true;
      show.title = t('notShown');
    }
    actions.append(show);
    row.append(line, actions);
    return row;
  }

  dialog.querySelector('.window-chooser').addEventListener('change', load);

  return {
    isOpen: () => dialog.open,
    open() {
      error.hidden = true;
      if (!dialog.open) dialog.showModal();
      load();
    },
    /** Asks again for the window shown (votes changed while the panel is open). */
    refresh() {
      if (dialog.open) load();
    },
    show(board) {
      // An answer for a window no longer chosen is stale: the newer request's answer follows.
      if (board.since !== windowChoice()) return;
      const focusKey = dialog.contains(document.activeElement) ? document.activeElement.dataset.focusKey : undefined;
      body.removeAttribute('aria-busy');
      error.hidden = true;
      title.textContent = board.text;
      sheet.hidden = board.image === null;
      if (board.image) {
        sheet.src = board.image.url;
        sheet.alt = board.image.alt;
        sheet.classList.toggle('spoiler', board.image.spoiler);
      } else {
        sheet.removeAttribute('src');
      }
      const refineOf = (item) => board.buttons.find((b) => b.action === 'refine' && b.id === `z:refine:${item.jobId}:${item.index}`);
      list.replaceChildren(...board.entries.map((item) => entry(item, refineOf(item))));
      more.replaceChildren(...(board.menu ? [menuOf(board.menu, press)] : []));
      if (focusKey) dialog.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
    },
    fail(text) {
      body.removeAttribute('aria-busy');
      error.textContent = text;
      error.hidden = false;
    },
  };
}
