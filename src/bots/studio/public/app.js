// The studio page: who this browser is (a name chosen for it, editable in the header), one connection, the feed,
// the composer, which has the focus from the start, and the panels: the board, the settings, a card's history. With a
// prompt assistant configured (the welcome says), the composer also offers Enhance and Describe. Over 300 lines on
// purpose: the page's wiring in one place, each control's handler a few lines; the panels and the feed are modules.

import { createBoardPanel } from './board-panel.js';
import { connect } from './connection.js';
import { createFeed } from './feed.js';
import { locale, t, translatePage } from './i18n.js';
import { currentName, onNameChangedElsewhere, saveName, userId as storedUserId } from './identity.js';
import { canvasToPng, createMaskPainter } from './mask-painter.js';
import { createLineagePanel } from './lineage-panel.js';
import { createNameEditor } from './name-editor.js';
import { createSettingsPanel } from './settings-panel.js';

const $ = (id) => document.getElementById(id);

function main() {
  translatePage();
  const userId = storedUserId();
  let name = currentName(locale);

  const composer = $('composer');
  const text = $('text');
  const sendButton = $('send');
  const painter = createMaskPainter($('mask-dialog'));
  text.focus();

  /** What the next message is about: a candidate (or, index null, a whole result) replied to, or a file; and a mask. */
  let target = null;
  let mask = null;
  let uploadLimit = { maxBytes: Infinity, tooLarge: '' };
  let nextRef = 1;
  let pendingRef = null;
  /** The welcome said a prompt assistant is configured: Enhance and Describe are offered (else none of them is). */
  let assistant = false;
  /** A describe sent and not yet answered (its suggestions come as a card; this is for its ack or refusal). */
  let describeRef = null;
  const enhanceBox = $('enhance');

  const showTarget = () => {
    $('attachment').hidden = target === null;
    $('mask-state').hidden = mask === null;
    if (!target) return;
    const whole = target.kind === 'reply' && target.index === null;
    $('attachment-thumb').src = target.url;
    $('attachment-label').textContent = whole
      ? t('replyingToAll', { job: target.jobId })
      : target.kind === 'reply'
        ? t('replyingTo', { job: target.jobId, n: target.index + 1 })
        : t('yourImage', { name: target.file.name });
    // A mask is painted over one image: a reply to a whole result has none.
    $('paint-mask').hidden = whole;
  };
  /** Enhance rewrites a draft's prompt: it does not apply while an image is attached (an edit or a refine). */
  const showAssistant = () => {
    $('enhance-toggle').hidden = !assistant;
    $('describe').hidden = !assistant;
    enhanceBox.disabled = target !== null;
    // Describe looks at one image: a file, or one candidate (not a whole result).
    $('describe-target').hidden = !assistant || target === null || (target.kind === 'reply' && target.index === null);
    $('describe').disabled = describeRef !== null;
    $('describe-target').disabled = describeRef !== null;
  };
  const setTarget = (next) => {
    if (target?.kind === 'file') URL.revokeObjectURL(target.url);
    target = next;
    mask = null;
    showTarget();
    showAssistant();
  };

  /** Requests a panel made, by ref: their answers and refusals go back to that panel. */
  const panelRefs = new Map();
  /** Presses made in a panel: the job they queue is brought into view. */
  const revealRefs = new Set();

  /** Sends a message; false (and said where the user is looking) when offline. */
  const sendWithRef = (message, { panel, reveal } = {}) => {
    const ref = nextRef++;
    if (!connection.send({ ...message, ref })) {
      if (panel) panel.fail(t('notSent'));
      else feed.error(t('notSent'));
      return false;
    }
    if (panel) panelRefs.set(ref, panel);
    if (reveal) revealRefs.add(ref);
    return true;
  };

  const feed = createFeed($('feed'), {
    onButton: (id) => sendWithRef({ t: 'button', id }),
    onReply: (candidate) => {
      setTarget({ kind: 'reply', ...candidate });
      text.focus();
    },
    onVote: (jobId, index) => sendWithRef({ t: 'vote', jobId, index }),
    onHistory: (jobId) => lineagePanel.open(jobId),
  });

  const boardPanel = createBoardPanel($('board-dialog'), {
    request: (since) => sendWithRef({ t: 'board', since }, { panel: boardPanel }),
    onButton: (id) => sendWithRef({ t: 'button', id }, { reveal: true }),
    has: (jobId) => feed.has(jobId),
    onShow: (jobId) => feed.reveal(jobId),
  });
  const settingsPanel = createSettingsPanel($('settings-dialog'), {
    request: () => sendWithRef({ t: 'settings' }, { panel: settingsPanel }),
    save: (target, values) => sendWithRef({ t: 'settings', change: { target, values } }, { panel: settingsPanel }),
  });
  const lineagePanel = createLineagePanel($('lineage-dialog'), {
    request: (jobId) => sendWithRef({ t: 'lineage', jobId }, { panel: lineagePanel }),
    has: (jobId) => feed.has(jobId),
    onGo: (jobId, path) => {
      feed.markPath(path);
      feed.reveal(jobId);
    },
  });
  $('open-board').addEventListener('click', () => boardPanel.open());
  $('open-settings').addEventListener('click', () => settingsPanel.open());
  for (const dialog of document.querySelectorAll('dialog.panel')) {
    dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
    // A click on the backdrop (outside the panel's box) closes it too.
    dialog.addEventListener('click', (event) => {
      if (event.target === dialog) {
        const box = dialog.getBoundingClientRect();
        const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
        if (!inside) dialog.close();
      }
    });
  }

  // Votes change while the board is open: ask again once they settle.
  let boardRefresh = null;
  const refreshBoardSoon = () => {
    if (!boardPanel.isOpen()) return;
    clearTimeout(boardRefresh);
    boardRefresh = setTimeout(() => boardPanel.refresh(), 400);
  };

  const announcer = $('announcer');
  const announce = (words) => {
    // Emptied first, so the same sentence twice is said twice.
    announcer.textContent = '';
    requestAnimationFrame(() => (announcer.textContent = words));
  };

  const connection = connect({
    hello: () => ({ t: 'hello', userId, name, locale: navigator.language }),
    onState: (state) => {
      $('connection').dataset.state = state;
      $('connection').textContent = t(state);
      // A command whose answer had not come when its connection dropped gets none: the composer is free again (the
      // text stays, and the history the next welcome brings shows whether it was queued).
      if (state === 'offline' && pendingRef !== null) {
        pendingRef = null;
        idle();
      }
      if (state === 'offline' && describeRef !== null) {
        describeRef = null;
        showAssistant();
      }
    },
    onMessage: (message) => {
      switch (message.t) {
        case 'welcome':
          assistant = message.assistant === true;
          if (!assistant) enhanceBox.checked = false;
          showAssistant();
          feed.reset(message.cards, message.assists);
          uploadLimit = message.upload;
          $('options').replaceChildren(
            ...message.options.flatMap((o) => {
              const term = document.createElement('dt');
              term.textContent = o.flag;
              const description = document.createElement('dd');
              description.textContent = o.description;
              return [term, description];
            }),
          );
          break;
        case 'assist':
          feed.upsertAssist(message.card);
          break;
        case 'card':
          feed.upsert(message.card, message.replaces);
          if (message.card.state === 'result') refreshBoardSoon();
          break;
        case 'removed':
          feed.remove(message.jobId);
          break;
        case 'ack':
          if (revealRefs.delete(message.ref) && message.jobId) feed.revealSoon(message.jobId);
          if (message.ref === describeRef) {
            describeRef = null;
            showAssistant();
          }
          if (message.ref === pendingRef) {
            pendingRef = null;
            text.value = '';
            setTarget(null);
            idle();
          }
          break;
        case 'error': {
          const panel = panelRefs.get(message.ref);
          panelRefs.delete(message.ref);
          revealRefs.delete(message.ref);
          if (panel && panel.isOpen()) panel.fail(message.text);
          else feed.error(message.text);
          if (message.ref === pendingRef) {
            pendingRef = null;
            idle();
          }
          if (message.ref === describeRef) {
            describeRef = null;
            showAssistant();
          }
          break;
        }
        case 'notice':
          feed.notice(message.text);
          break;
        case 'announce':
          announce(message.text);
          break;
        case 'board':
          panelRefs.delete(message.ref);
          boardPanel.show(message.board);
          break;
        case 'lineage':
          panelRefs.delete(message.ref);
          if (lineagePanel.show(message)) feed.markPath(message.chain.map((step) => step.jobId));
          break;
        case 'settings':
          panelRefs.delete(message.ref);
          settingsPanel.show(message);
          break;
      }
    },
  });

  const busy = () => {
    sendButton.disabled = true;
    sendButton.textContent = t('sending');
  };
  const idle = () => {
    sendButton.disabled = false;
    sendButton.textContent = t('send');
  };

  async function upload(blob) {
    if (blob.size > uploadLimit.maxBytes) throw new Error(uploadLimit.tooLarge);
    let response;
    try {
      response = await fetch(`/upload?user=${encodeURIComponent(userId)}&locale=${encodeURIComponent(locale)}`, { method: 'POST', body: blob });
    } catch {
      throw new Error(t('uploadFailed'));
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok || typeof body.id !== 'string') throw new Error(body.error ?? t('uploadFailed'));
    return body.id;
  }

  async function send() {
    if (pendingRef !== null || (!text.value.trim() && !target)) return;
    busy();
    const ref = nextRef++;
    const message = { t: 'command', ref, text: text.value };
    // The toggle is --enhance for a draft (a typed --enhance works the same, and the server refuses both without an
    // assistant); it is off while an image is attached.
    if (assistant && enhanceBox.checked && !enhanceBox.disabled) message.enhance = true;
    try {
      if (target?.kind === 'reply') message.replyTo = target.index === null ? { jobId: target.jobId } : { jobId: target.jobId, index: target.index };
      if (target?.kind === 'file') message.upload = await upload(target.file);
      if (mask) message.mask = await upload(await canvasToPng(mask));
    } catch (error) {
      feed.error(error.message);
      idle();
      return;
    }
    pendingRef = ref;
    if (!connection.send(message)) {
      pendingRef = null;
      feed.error(t('notSent'));
      idle();
    }
  }

  /** Describe one image: a file (uploaded first) or a candidate; the suggestions come as a card for every tab. */
  async function describe(image) {
    if (!assistant || describeRef !== null) return;
    const ref = nextRef++;
    const message = { t: 'describe', ref };
    describeRef = ref;
    showAssistant();
    try {
      if (image.kind === 'file') message.upload = await upload(image.file);
      else message.image = { jobId: image.jobId, index: image.index };
    } catch (error) {
      feed.error(error.message);
      describeRef = null;
      showAssistant();
      return;
    }
    if (!connection.send(message)) {
      feed.error(t('notSent'));
      describeRef = null;
      showAssistant();
    }
  }

  $('describe').addEventListener('click', () => $('describe-file').click());
  $('describe-file').addEventListener('change', (event) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (file) void describe({ kind: 'file', file });
  });
  // The attached image described instead of edited: it is used up, as a sent edit's is.
  $('describe-target').addEventListener('click', () => {
    if (!target || (target.kind === 'reply' && target.index === null)) return;
    const image = target.kind === 'file' ? { kind: 'file', file: target.file } : { kind: 'reply', jobId: target.jobId, index: target.index };
    setTarget(null);
    text.focus();
    void describe(image);
  });

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    void send();
  });
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send();
    }
  });
  // A real button opens the hidden file input, so attaching is reachable from the keyboard like every other control.
  $('attach').addEventListener('click', () => $('file').click());
  $('file').addEventListener('change', (event) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (file) setTarget({ kind: 'file', file, url: URL.createObjectURL(file) });
  });
  $('clear-attachment').addEventListener('click', () => setTarget(null));
  $('paint-mask').addEventListener('click', async () => {
    if (!target) return;
    mask = await painter.open(target.url, mask);
    showTarget();
  });

  // The same user under a new name, from the next command on. Offline, the next connection's hello carries it.
  const rename = (next) => {
    name = next;
    connection.send({ t: 'name', name });
  };
  const nameEditor = createNameEditor(
    { button: $('who'), box: $('name-edit'), input: $('name-input'), error: $('name-error') },
    {
      name,
      onRename: (next) => {
        saveName(next);
        rename(next);
      },
      onClose: () => text.focus(),
    },
  );
  onNameChangedElsewhere((next) => {
    nameEditor.show(next);
    rename(next);
  });
}

main();
