// The studio page: a name for this tab, one connection, the feed, and the composer.

import { connect } from './connection.js';
import { createFeed } from './feed.js';
import { locale, t, translatePage } from './i18n.js';
import { canvasToPng, createMaskPainter } from './mask-painter.js';

const $ = (id) => document.getElementById(id);

/** Each tab is its own user: the id and the name live in sessionStorage, which is per tab. */
function tabUserId() {
  let id = sessionStorage.getItem('zimage.userId');
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    id = `tab-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
    sessionStorage.setItem('zimage.userId', id);
  }
  return id;
}

const validName = (name) => name.length >= 1 && name.length <= 32 && !/\p{C}/u.test(name);

function askName(current) {
  const dialog = $('name-dialog');
  const input = $('name-input');
  input.value = current ?? '';
  dialog.showModal();
  return new Promise((resolve) => {
    // Escape keeps the current name; the first time there is none to keep.
    dialog.oncancel = (event) => {
      if (current) resolve(current);
      else event.preventDefault();
    };
    $('name-form').onsubmit = (event) => {
      const name = input.value.trim();
      if (!validName(name)) {
        event.preventDefault();
        $('name-error').hidden = false;
        return;
      }
      $('name-error').hidden = true;
      sessionStorage.setItem('zimage.name', name);
      resolve(name);
    };
  });
}

async function main() {
  translatePage();
  const userId = tabUserId();
  let name = sessionStorage.getItem('zimage.name');
  if (!name || !validName(name)) name = await askName(null);

  const composer = $('composer');
  const text = $('text');
  const sendButton = $('send');
  const painter = createMaskPainter($('mask-dialog'));
  const who = $('who');
  who.textContent = name;
  who.hidden = false;
  composer.hidden = false;

  /** What the next message is about: a candidate replied to, or a file; and a mask painted over it. */
  let target = null;
  let mask = null;
  let uploadLimit = { maxBytes: Infinity, tooLarge: '' };
  let nextRef = 1;
  let pendingRef = null;

  const showTarget = () => {
    $('attachment').hidden = target === null;
    $('mask-state').hidden = mask === null;
    if (!target) return;
    $('attachment-thumb').src = target.url;
    $('attachment-label').textContent =
      target.kind === 'reply' ? t('replyingTo', { job: target.jobId, n: target.index + 1 }) : t('yourImage', { name: target.file.name });
  };
  const setTarget = (next) => {
    if (target?.kind === 'file') URL.revokeObjectURL(target.url);
    target = next;
    mask = null;
    showTarget();
  };

  const feed = createFeed($('feed'), {
    onButton: (id) => {
      if (!connection.send({ t: 'button', ref: nextRef++, id })) feed.error(t('notSent'));
    },
    onReply: (candidate) => {
      setTarget({ kind: 'reply', ...candidate });
      text.focus();
    },
  });

  const connection = connect({
    hello: () => ({ t: 'hello', userId, name, locale: navigator.language }),
    onState: (state) => {
      $('connection').dataset.state = state;
      $('connection').textContent = t(state);
    },
    onMessage: (message) => {
      switch (message.t) {
        case 'welcome':
          feed.reset(message.cards);
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
        case 'card':
          feed.upsert(message.card);
          break;
        case 'removed':
          feed.remove(message.jobId);
          break;
        case 'ack':
          if (message.ref === pendingRef) {
            pendingRef = null;
            text.value = '';
            setTarget(null);
            idle();
          }
          break;
        case 'error':
          feed.error(message.text);
          if (message.ref === pendingRef) {
            pendingRef = null;
            idle();
          }
          break;
        case 'notice':
          feed.notice(message.text);
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
    try {
      if (target?.kind === 'reply') message.replyTo = { jobId: target.jobId, index: target.index };
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
  who.addEventListener('click', async () => {
    name = await askName(name);
    who.textContent = name;
    connection.reconnect();
  });
}

void main();
