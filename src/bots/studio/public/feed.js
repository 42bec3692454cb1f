// The channel: one card per job, in order. Every string from the server goes in with textContent, never as HTML.
// A result shows each candidate once, as a tile with its number, Reply and a vote control; under the tiles, the
// votes line and one row of controls (Refine n, the menu of the rest, Reply to all, History). The prompt assistant's
// cards sit in the same feed: "Enhancing the prompt…" until the job's card takes its place, or describe's suggestions,
// each prompt with its Draft button. Over 300 lines on purpose: every kind of card is drawn here, so each re-draw
// keeps the keyboard focus and the anchors the same way.

import { t } from './i18n.js';

const el = (tag, className, text) => {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
};

const button = (className, text, focusKey) => {
  const element = el('button', className, text);
  element.type = 'button';
  if (focusKey) element.dataset.focusKey = focusKey;
  return element;
};

export function createFeed(root, { onButton, onReply, onVote, onHistory }) {
  /** Spoilers a reader uncovered stay uncovered when their card is re-drawn (new votes). */
  const uncovered = new Set();
  /** A job to bring into view once its card arrives (a press in a panel made it). */
  let revealWhenShown = null;

  const nearBottom = () => root.scrollHeight - root.scrollTop - root.clientHeight < 120;
  // Stay at the newest message when the reader was there, also once its images have loaded.
  const keepScrolled = (wasNearBottom, element) => {
    if (!wasNearBottom) return;
    root.scrollTop = root.scrollHeight;
    for (const image of element?.querySelectorAll('img') ?? []) {
      image.addEventListener('load', () => (root.scrollTop = root.scrollHeight), { once: true });
    }
  };
  const cardOf = (jobId) => root.querySelector(`#job-${CSS.escape(jobId)}`);

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

  // "varied from #2 of job x", the label a link to the parent's card (text nodes only).
  function originLine(card) {
    const { origin } = card;
    const line = el('p', 'origin');
    line.append(document.createTextNode(`↳ ${origin.before}`));
    if (origin.linked) {
      const link = el('a', 'parent', origin.label);
      link.href = `#job-${origin.parentId}`;
      link.dataset.focusKey = 'origin';
      link.addEventListener('click', (event) => {
        event.preventDefault();
        // The parent may be older than this view holds: its History still says where it came from.
        if (!reveal(origin.parentId)) onHistory(card.jobId);
      });
      line.append(link);
    } else if (origin.label) {
      line.append(el('span', 'parent', origin.label));
    }
    line.append(document.createTextNode(origin.after));
    return line;
  }

  function voteControl(card, candidate) {
    const count = card.votes[candidate.index] ?? 0;
    const mine = card.myVotes.includes(candidate.index);
    const vote = button('vote', undefined, `vote:${candidate.index}`);
    vote.setAttribute('aria-pressed', String(mine));
    vote.setAttribute('aria-label', t('voteLabel', { n: candidate.index + 1, count }));
    vote.title = t(mine ? 'unvoteHint' : 'voteHint');
    vote.dataset.index = String(candidate.index);
    vote.append(el('span', 'vote-star', mine ? '★' : '☆'), el('span', 'vote-count', String(count)));
    vote.addEventListener('click', () => onVote(card.jobId, candidate.index));
    return vote;
  }

  function tile(card, candidate) {
    const figure = el('figure', 'candidate');
    figure.dataset.index = String(candidate.index);
    figure.dataset.withheld = String(candidate.withheld);
    const frame = el('div', 'tile-frame');
    const image = el('img', candidate.withheld ? 'tile placeholder' : 'tile');
    image.src = candidate.url;
    image.alt = candidate.withheld ? t('withheld') : `${t('candidate', { n: candidate.index + 1 })}: ${candidate.alt}`;
    const number = el('span', 'tile-number', String(candidate.index + 1));
    // The image's text says which candidate it is; the badge is for the eye.
    number.setAttribute('aria-hidden', 'true');
    frame.append(image, number);
    figure.append(frame);
    const key = `${card.jobId}:${candidate.index}`;
    if (candidate.spoiler && !uncovered.has(key)) {
      figure.classList.add('spoiler');
      frame.addEventListener(
        'click',
        () => {
          uncovered.add(key);
          figure.classList.remove('spoiler');
        },
        { once: true },
      );
    }
    const bar = el('figcaption', 'tile-bar');
    if (!candidate.withheld) {
      const reply = button('btn reply', t('reply'), `reply:${candidate.index}`);
      reply.dataset.style = 'secondary';
      reply.setAttribute('aria-label', t('replyTo', { n: candidate.index + 1 }));
      reply.addEventListener('click', () => onReply({ jobId: card.jobId, index: candidate.index, url: candidate.url }));
      bar.append(voteControl(card, candidate), reply);
    }
    figure.append(bar);
    return figure;
  }

  function resultBlock(card) {
    const box = el('div', 'result');
    if (card.notes.length > 0) {
      const notes = el('ul', 'notes');
      for (const note of card.notes) notes.append(el('li', '', note));
      box.append(notes);
    }
    const tiles = el('div', 'tiles');
    tiles.dataset.count = String(card.candidates.length);
    for (const candidate of card.candidates) tiles.append(tile(card, candidate));
    box.append(tiles);
    if (card.votesLine) box.append(el('p', 'votes', card.votesLine));
    return box;
  }

  function pressable(spec) {
    const element = button('btn', spec.label, `button:${spec.id}`);
    element.dataset.style = spec.style;
    element.dataset.buttonId = spec.id;
    element.dataset.action = spec.action;
    element.addEventListener('click', () => onButton(spec.id));
    return element;
  }

  // One row: the common action per candidate, then a menu of the rest (chosen = pressed, as a button would be).
  function controls(card) {
    const row = el('div', 'button-row');
    for (const spec of card.buttons) row.append(pressable(spec));
    if (card.menu) row.append(menuOf(card.menu, onButton));
    const delivered = card.candidates.filter((c) => !c.withheld).length;
    const extras = [];
    if (card.state === 'result' && card.candidates.length > 1 && delivered > 0) {
      const all = button('btn reply-all', t('replyAll'), 'reply-all');
      all.dataset.style = 'secondary';
      all.addEventListener('click', () => onReply({ jobId: card.jobId, index: null, url: card.grid }));
      extras.push(all);
    }
    if (card.state !== 'status' && (card.state === 'result' || card.origin)) {
      const history = button('btn history', t('history'), 'history');
      history.dataset.style = 'ghost';
      history.setAttribute('aria-haspopup', 'dialog');
      history.addEventListener('click', () => onHistory(card.jobId));
      extras.push(history);
    }
    if (extras.length > 0) {
      const end = el('span', 'row-end');
      end.append(...extras);
      row.append(end);
    }
    return row;
  }

  // A card's frame: its anchor (job-<id>, where origin links and Show land) and the data the tests and styles read.
  function cardArticle(className, id, data) {
    const article = el('article', className);
    article.id = `job-${id}`;
    article.tabIndex = -1;
    Object.assign(article.dataset, { jobId: id, ...data });
    return article;
  }

  function render(card) {
    const article = cardArticle('card', card.jobId, { state: card.state, role: card.role, mine: String(card.owner.mine) });
    if (card.outcome) article.dataset.outcome = card.outcome;

    const head = el('header', 'card-head');
    head.append(el('span', 'author', card.owner.name ?? t('anonymous')), el('span', 'command', `/${card.role}`), el('span', 'job-id', card.jobId));
    article.append(head);
    if (card.origin) article.append(originLine(card));
    if (card.prompt) article.append(el('p', 'prompt', card.prompt));
    // The assistant's rewrite is the prompt above; the asker's own words beside it, and the buttons offer them back.
    if (card.enhanced) article.append(el('p', 'enhanced', card.enhanced.line));

    if (card.state === 'status') article.append(statusBlock(card), controls(card));
    if (card.state === 'result') article.append(resultBlock(card), controls(card), el('p', 'footer', card.text));
    if (card.state === 'final') {
      article.append(el('p', 'final', card.text));
      if (card.origin) article.append(controls(card));
    }
    return article;
  }

  // The prompt assistant's card: at work (its line under the words it rewrites), or describe's suggestions.
  function renderAssist(card) {
    const article = cardArticle('card assist', card.id, { state: card.state, task: card.task, mine: String(card.owner.mine) });
    article.setAttribute('aria-busy', String(card.state === 'assisting'));
    const head = el('header', 'card-head');
    head.append(el('span', 'author', card.owner.name ?? t('anonymous')), el('span', 'command', card.task === 'enhance' ? '/draft --enhance' : '/describe'));
    article.append(head);
    if (card.prompt) article.append(el('p', 'prompt', card.prompt));
    if (card.state === 'assisting') {
      article.append(el('p', 'status-text assisting', card.text));
      return article;
    }
    article.append(el('p', 'suggestions-title', card.text));
    if (card.notes.length > 0) {
      const notes = el('ul', 'notes');
      for (const note of card.notes) notes.append(el('li', '', note));
      article.append(notes);
    }
    article.dataset.withheld = String(card.withheld);
    const list = el('ol', 'suggestions');
    list.setAttribute('aria-label', t('suggestions'));
    card.suggestions.forEach((suggestion, i) => {
      const item = el('li', 'suggestion');
      const words = el('p', 'suggestion-text', suggestion.prompt);
      words.id = `${card.id}-s${i}`;
      const draft = pressable(suggestion.button);
      // "Draft 2" says which; the prompt it drafts is its description.
      draft.setAttribute('aria-describedby', words.id);
      item.append(words, draft);
      list.append(item);
    });
    article.append(list);
    return article;
  }

  /** Scrolls a card into view, gives it the focus and flashes it; false when it is not in the feed. */
  function reveal(jobId) {
    const card = cardOf(jobId);
    if (!card) return false;
    card.scrollIntoView({ block: 'center' });
    card.focus({ preventScroll: true });
    card.classList.remove('flash');
    void card.offsetWidth;
    card.classList.add('flash');
    return true;
  }

  /** A card drawn anew, or added; `replaces` names the assistant's card a job's card takes the place of. */
  function upsert(card, replaces) {
    place(card.jobId, render(card), replaces);
  }

  function place(id, next, replaces) {
    const wasNearBottom = nearBottom();
    const replaced = replaces ? cardOf(replaces) : null;
    const current = cardOf(id) ?? replaced;
    if (replaced && replaced !== current) replaced.remove();
    if (current) {
      // A re-drawn card (new votes, the next step) keeps the keyboard where it was, and its place on the path.
      const focused = current.contains(document.activeElement) ? document.activeElement : null;
      const key = focused === current ? 'card' : focused?.dataset.focusKey;
      if (current.classList.contains('on-path')) next.classList.add('on-path');
      current.replaceWith(next);
      if (key === 'card') next.focus({ preventScroll: true });
      else if (key) next.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
    } else {
      root.append(next);
    }
    keepScrolled(wasNearBottom, next);
    if (revealWhenShown === id) {
      revealWhenShown = null;
      reveal(id);
    }
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
    /** The history: jobs' cards and the assistant's, in the order they were asked for. */
    reset(cards, assists = []) {
      const all = [...cards.map((card) => ({ at: card.createdAt, draw: () => render(card) })), ...assists.map((card) => ({ at: card.createdAt, draw: () => renderAssist(card) }))];
      all.sort((a, b) => a.at - b.at);
      root.replaceChildren(...all.map((entry) => entry.draw()));
      keepScrolled(true, root);
    },
    upsert,
    upsertAssist: (card) => place(card.id, renderAssist(card)),
    remove(jobId) {
      cardOf(jobId)?.remove();
    },
    has: (jobId) => cardOf(jobId) !== null,
    reveal,
    /** Brings a job's card into view now, or as soon as it arrives. */
    revealSoon(jobId) {
      if (!reveal(jobId)) revealWhenShown = jobId;
    },
    /** Marks the cards of one chain (a History view), clearing the last one's marks. */
    markPath(jobIds) {
      for (const card of root.querySelectorAll('.card.on-path')) card.classList.remove('on-path');
      for (const jobId of jobIds) cardOf(jobId)?.classList.add('on-path');
    },
    error: (text) => ephemeral('error', text),
    notice: (text) => ephemeral('notice', text),
  };
}

/** A select of actions: choosing an option presses it, then the select shows its placeholder again. */
export function menuOf(spec, onChoose) {
  const menu = el('select', 'menu');
  menu.dataset.menuId = spec.id;
  menu.dataset.focusKey = 'menu';
  menu.setAttribute('aria-label', spec.placeholder);
  const placeholder = el('option', '', spec.placeholder);
  placeholder.value = '';
  menu.append(placeholder);
  for (const option of spec.options) {
    const entry = el('option', '', option.label);
    entry.value = option.id;
    entry.dataset.action = option.action;
    menu.append(entry);
  }
  const choose = () => {
    const id = menu.value;
    menu.value = '';
    if (id) onChoose(id);
  };
  // Arrow keys on a closed select change its value at once: that browses, and Enter then chooses. A choice made in
  // the open list (mouse, or Enter there) acts straight away.
  let browsing = false;
  menu.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && menu.value) {
      event.preventDefault();
      choose();
    } else if (event.key.startsWith('Arrow') || ['Home', 'End', 'PageUp', 'PageDown'].includes(event.key) || event.key.length === 1) {
      browsing = true;
    }
  });
  menu.addEventListener('keyup', () => (browsing = false));
  menu.addEventListener('change', () => {
    if (!browsing) choose();
  });
  menu.addEventListener('blur', () => (menu.value = ''));
  return menu;
}
