// One WebSocket to the studio, reopened after a drop (the server re-sends the channel's state on every hello).

export function connect({ hello, onMessage, onState }) {
  let socket;
  let delay = 300;
  let stopped = false;

  const open = () => {
    onState('connecting');
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    socket.addEventListener('open', () => {
      delay = 300;
      socket.send(JSON.stringify(hello()));
      onState('connected');
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(message);
    });
    socket.addEventListener('close', () => {
      onState('offline');
      if (stopped) return;
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    });
  };
  open();

  return {
    /** False when the socket is not open: nothing was sent. */
    send(message) {
      if (socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
  };
}
