// A third client without a browser: speaks Parley protocol v1 (JSON
// subprotocol) over a WebSocket with a token it signs itself (HS256), as any
// backend integration would. Configured by the environment:
//   PARLEY_URL, PARLEY_JWT_SECRET, PARLEY_USER, PARLEY_NAME, PARLEY_ROOM,
//   PARLEY_MESSAGES (a JSON array of strings)
// Sends the messages in order, each after the previous one's ack, then
// prints {"sent":[{"seq":..,"content":..}]} and exits 0.
import { createHmac, randomBytes } from 'node:crypto';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`missing ${name}`);
    process.exit(64);
  }
  return v;
};
const url = env('PARLEY_URL');
const secret = env('PARLEY_JWT_SECRET');
const user = env('PARLEY_USER');
const name = env('PARLEY_NAME');
const room = env('PARLEY_ROOM');
const messages = JSON.parse(env('PARLEY_MESSAGES'));

function sign(claims) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const now = Math.floor(Date.now() / 1000);
const token = sign({ sub: user, name, iat: now, exp: now + 600 });
const batch = randomBytes(6).toString('hex');
const sent = [];

const timeout = setTimeout(() => {
  console.error(`timed out after sending ${sent.length} of ${messages.length}`);
  process.exit(2);
}, 20_000);

const ws = new WebSocket(url, ['parley.v1.json']);
const send = (frame) => ws.send(JSON.stringify(frame));

function sendNext() {
  const i = sent.length;
  if (i === messages.length) {
    clearTimeout(timeout);
    console.log(JSON.stringify({ sent }));
    ws.close(1000, 'done');
    return;
  }
  send({
    type: 'send',
    ref: `s${i}`,
    roomId: room,
    clientMsgId: `e2e${batch}n${i}`,
    message: { type: 'text', content: messages[i] },
  });
}

ws.addEventListener('open', () => {
  send({ type: 'hello', ref: 'hello', v: 1, token, client: { name: 'e2e-protocol-client', version: '1.0.0' } });
});
ws.addEventListener('message', (event) => {
  const frame = JSON.parse(String(event.data));
  switch (frame.type) {
    case 'welcome':
      send({ type: 'join', ref: 'join', roomId: room });
      break;
    case 'joined':
      sendNext();
      break;
    case 'ack':
      if (frame.ref === `s${sent.length}` && frame.message) {
        sent.push({ seq: frame.message.seq, content: frame.message.content });
        sendNext();
      }
      break;
    case 'error':
      console.error(`error frame: ${JSON.stringify(frame)}`);
      process.exit(1);
  }
});
ws.addEventListener('close', (event) => {
  if (sent.length < messages.length) {
    console.error(`closed (${event.code}) after ${sent.length} of ${messages.length}`);
    process.exit(3);
  }
  process.exit(0);
});
ws.addEventListener('error', () => {
  console.error('websocket error');
});
