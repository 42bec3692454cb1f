// The studio page: who this browser is (a name chosen for it, editable in the header), one connection, the feed,
// and the composer, which has the focus from the start.

import { connect } from './connection.js';
import { createFeed } from './feed.js';
import { locale, t, translatePage } from './i18n.js';
import { currentName, onNameChangedElsewhere, saveName, userId as storedUserId } from './identity.js';
import { canvasToPng, createMaskPainter } from './mask-painter.js';
import { createNameEditor } from './name-editor.js';

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
      // A command whose answer had not come when its connection dropped gets none: the composer is free again (the
      // text stays, and the history the next welcome brings shows whether it was queued).
      if (state === 'offline' && pendingRef !== null) {
        pendingRef = null;
        idle();
      }
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
