// Paint a mask over an image: the canvas is the mask itself (white = change, black = keep), shown over the image
// in "screen" blending so the black part is see-through. Its size is the image's own, as the engine requires.

export function createMaskPainter(dialog) {
  const image = dialog.querySelector('#mask-image');
  const canvas = dialog.querySelector('#mask-canvas');
  const brush = dialog.querySelector('#mask-brush');
  const context = canvas.getContext('2d');
  let painted = false;
  let last = null;
  let finish = () => {};

  const clear = () => {
    context.fillStyle = '#000';
    context.fillRect(0, 0, canvas.width, canvas.height);
    painted = false;
  };

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * canvas.width) / box.width, y: ((event.clientY - box.top) * canvas.height) / box.height };
  };

  const stroke = (from, to) => {
    // The slider is in screen pixels; the mask is in image pixels.
    const radius = (Number(brush.value) * canvas.width) / Math.max(1, canvas.getBoundingClientRect().width);
    context.strokeStyle = '#fff';
    context.fillStyle = '#fff';
    context.lineWidth = radius * 2;
    context.lineCap = 'round';
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
    context.beginPath();
    context.arc(to.x, to.y, radius, 0, Math.PI * 2);
    context.fill();
    painted = true;
  };

  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    stroke(last, last);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!last) return;
    const next = point(event);
    stroke(last, next);
    last = next;
  });
  const lift = () => {
    last = null;
  };
  canvas.addEventListener('pointerup', lift);
  canvas.addEventListener('pointercancel', lift);

  const copy = () => {
    const out = document.createElement('canvas');
    out.width = canvas.width;
    out.height = canvas.height;
    out.getContext('2d').drawImage(canvas, 0, 0);
    return out;
  };

  dialog.querySelector('#mask-clear').addEventListener('click', clear);
  dialog.querySelector('#mask-done').addEventListener('click', () => finish(painted ? copy() : null));
  dialog.querySelector('#mask-cancel').addEventListener('click', () => finish(undefined));
  dialog.addEventListener('cancel', () => finish(undefined));

  return {
    /** Resolves to the painted mask (a canvas), null when nothing was painted, or `previous` when cancelled. */
    async open(url, previous) {
      image.src = url;
      await image.decode();
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      clear();
      if (previous) {
        context.drawImage(previous, 0, 0);
        painted = true;
      }
      dialog.showModal();
      const result = await new Promise((resolve) => {
        finish = resolve;
      });
      finish = () => {};
      if (dialog.open) dialog.close();
      return result === undefined ? previous : result;
    },
  };
}

export function canvasToPng(canvas) {
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('toBlob'))), 'image/png'));
}
