// The channel: one card per job, in order. Every string from the server goes in with textContent, never as HTML.

import { t } from './i18n.js';

const el = (tag, className, text) => {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
};

export function createFeed(root, { onButton, onReply }) {
  const nearBottom = () => root.scrollHeight - root.scrollTop - root.clientHeight < 120;
  // Stay at the newest message when the reader was there, also once its images have loaded.
  const keepScrolled = (wasNearBottom, element) => {
    if (!wasNearBottom) return;
    root.scrollTop = root.scrollHeight;
    for (const image of element?.querySelectorAll('img') ?? []) {
      image.addEventListener('load', () => (root.scrollTop = root.scrollHeight), { once: true });
    }
  };

  function statusBlock(card) {
    const box = el('div', 'status');
    box.append(el('p', 'status-text', card.text));
    const { phase, step, total, etaAt } = card.status;
    if (phase === 'running' && total) {
      const bar = el('progress', 'progress');
      bar.max = total;
      bar.value = step ?? 0;
      box.append(bar);
    }
    if (phase === 'running' && etaAt) {
      const eta = el('span', 'eta');
      eta.dataset.etaAt = String(etaAt);
      box.append(eta);
    }
    if (card.status.preview) {
      const preview = el('img', 'preview');
      preview.src = card.status.preview;
      preview.alt = t('preview');
      box.append(preview);
    }
    return box;
  }

  function candidateFigure(card, candidate, large) {
    const figure = el('figure', large ? 'candidate large' : 'candidate');
    figure.dataset.index = String(candidate.index);
    figure.dataset.withheld = String(candidate.withheld);
    const image = el('img', candidate.withheld ? 'tile placeholder' : 'tile');
    image.src = candidate.url;
    image.alt = candidate.withheld ? t('withheld') : candidate.alt;
    figure.append(image);
    if (candidate.spoiler) {
      figure.classList.add('spoiler');
      figure.addEventListener('click', () => figure.classList.remove('spoiler'), { once: true });
    }
    const caption = el('figcaption', '', String(candidate.index + 1));
    if (!candidate.withheld) {
      const reply = el('button', 'btn reply', t('reply'));
      reply.type = 'button';
      reply.dataset.style = 'secondary';
      reply.addEventListener('click', () => onReply({ jobId: card.jobId, index: candidate.index, url: candidate.url }));
      caption.append(reply);
    }
    figure.append(caption);
    return figure;
  }

  function resultBlock(card) {
    const box = el('div', 'result');
    if (card.notes.length > 0) {
      const notes = el('ul', 'notes');
      for (const note of card.notes) notes.append(el('li', '', note));
      box.append(notes);
    }
    if (card.grid) {
      const grid = el('img', 'grid');
      grid.src = card.grid;
      grid.alt = card.prompt;
      box.append(grid);
    }
    const strip = el('div', card.grid ? 'candidates' : 'candidates single');
    for (const candidate of card.candidates) strip.append(candidateFigure(card, candidate, !card.grid));
    box.append(strip);
    return box;
  }

  function pressable(spec) {
    const button = el('button', 'btn', spec.label);
    button.type = 'button';
    button.dataset.style = spec.style;
    button.dataset.buttonId = spec.id;
    button.dataset.action = spec.action;
    button.addEventListener('click', () => onButton(spec.id));
    return button;
  }

  // One row: the common action per candidate, then a menu of the rest (chosen = pressed, as a button would be).
  function controls(card) {
    const row = el('div', 'button-row');
    for (const spec of card.buttons) row.append(pressable(spec));
    if (card.menu) {
      const menu = el('select', 'menu');
      menu.dataset.menuId = card.menu.id;
      const placeholder = el('option', '', card.menu.placeholder);
      placeholder.value = '';
      menu.append(placeholder);
      for (const spec of card.menu.options) {
        const option = el('option', '', spec.label);
        option.value = spec.id;
        option.dataset.action = spec.action;
        menu.append(option);
      }
      menu.addEventListener('change', () => {
        const id = menu.value;
        menu.value = '';
        if (id) onButton(id);
      });
      row.append(menu);
    }
    return row;
  }

  function render(card) {
    const article = el('article', 'card');
    article.id = `job-${card.jobId}`;
    article.dataset.jobId = card.jobId;
    article.dataset.state = card.state;
    article.dataset.role = card.role;
    article.dataset.mine = String(card.owner.mine);
    if (card.outcome) article.dataset.outcome = card.outcome;

    const head = el('header', 'card-head');
    head.append(el('span', 'author', card.owner.name ?? t('anonymous')), el('span', 'command', `/${card.role}`));
    if (card.parentId) {
      const parent = el('a', 'parent', t('from', { job: card.parentId }));
      parent.href = `#job-${card.parentId}`;
      head.append(parent);
    }
    article.append(head);
    if (card.prompt) article.append(el('p', 'prompt', card.prompt));

    if (card.state === 'status') article.append(statusBlock(card), controls(card));
    if (card.state === 'result') {
      article.append(resultBlock(card), controls(card));
      if (card.votesLine) article.append(el('p', 'votes', card.votesLine));
      article.append(el('p', 'footer', card.text));
    }
    if (card.state === 'final') article.append(el('p', 'final', card.text));
    return article;
  }

  function upsert(card) {
    const wasNearBottom = nearBottom();
    const next = render(card);
    const current = root.querySelector(`#job-${CSS.escape(card.jobId)}`);
    if (current) current.replaceWith(next);
    else root.append(next);
    keepScrolled(wasNearBottom, next);
  }

  function ephemeral(kind, text) {
    const wasNearBottom = nearBottom();
    const box = el('div', `ephemeral ${kind}`);
    box.append(el('span', 'only-you', t('onlyYou')), el('p', 'ephemeral-text', text));
    root.append(box);
    keepScrolled(wasNearBottom, box);
  }

  // ETAs count down between server updates.
  setInterval(() => {
    for (const eta of root.querySelectorAll('.eta[data-eta-at]')) {
      const seconds = Math.ceil((Number(eta.dataset.etaAt) - Date.now()) / 1000);
      eta.textContent = seconds > 0 ? t('etaLeft', { n: seconds }) : '';
    }
  }, 1000);

  return {
    reset(cards) {
      root.replaceChildren(...cards.map(render));
      keepScrolled(true, root);
    },
    upsert,
    remove(jobId) {
      root.querySelector(`#job-${CSS.escape(jobId)}`)?.remove();
    },
    error: (text) => ephemeral('error', text),
    notice: (text) => ephemeral('notice', text),
  };
}
