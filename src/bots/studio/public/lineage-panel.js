// A card's History: the chain that made it, from the first job down to it (the path, highlighted in the feed too),
// and the jobs made from it. Each entry takes you to its card.

import { t } from './i18n.js';

export function createLineagePanel(dialog, { request, has, onGo }) {
  const heading = dialog.querySelector('#lineage-title');
  const chainList = dialog.querySelector('#lineage-chain');
  const childList = dialog.querySelector('#lineage-children');
  const none = dialog.querySelector('#lineage-none');
  const error = dialog.querySelector('#lineage-error');
  let asked = null;
  let path = [];

  function step(item, { depth, current }) {
    const row = document.createElement('li');
    row.className = 'lineage-item';
    row.dataset.jobId = item.jobId;
    row.style.setProperty('--depth', String(depth));
    const go = document.createElement('button');
    go.type = 'button';
    go.className = 'lineage-step';
    go.dataset.role = item.role;
    go.textContent = item.line;
    if (current) go.setAttribute('aria-current', 'step');
    if (has(item.jobId)) {
      go.addEventListener('click', () => {
        dialog.close();
        onGo(item.jobId, path);
      });
    } else {
      go.disabled = true;
      go.title = t('notShown');
    }
    row.append(go);
    return row;
  }

  return {
    isOpen: () => dialog.open,
    open(jobId) {
      asked = jobId;
      heading.textContent = t('historyTitle', { job: jobId });
      chainList.replaceChildren();
      childList.replaceChildren();
      none.hidden = true;
      error.hidden = true;
      if (!dialog.open) dialog.showModal();
      request(jobId);
    },
    /** False for an answer to an earlier question (another card's History was asked since). */
    show(message) {
      if (message.jobId !== asked) return false;
      path = message.chain.map((item) => item.jobId);
      chainList.replaceChildren(...message.chain.map((item, depth) => step(item, { depth, current: item.jobId === message.jobId })));
      childList.replaceChildren(...message.children.map((item) => step(item, { depth: 0, current: false })));
      none.hidden = message.children.length > 0;
      // Focus on the job itself, so arrows and Tab start from where the reader is.
      chainList.querySelector('[aria-current]')?.focus();
      return true;
    },
    fail(text) {
      error.textContent = text;
      error.hidden = false;
    },
  };
}
