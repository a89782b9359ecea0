#!/usr/bin/env node
// Peer server for the benchmarks (issue 7): Node `ws`, rooms as Sets.
// Same semantics as Parley's fan-out: join a room, publish to it, every member
// of the room (the publisher included) gets the message.
//   client: {"type":"join","room":"r1"}                 -> {"type":"joined","room":"r1"}
//           {"type":"publish","room":"r1","body":"..."}  -> {"type":"message","room":"r1","body":"..."} to every member
// The message is serialized once per publish and sent to each member.
//   node bench/peers/ws-server.mjs [--port 0] [--host 127.0.0.1]
// Prints "listening <port>" on stdout once it accepts connections.
import { WebSocketServer } from 'ws';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};

const rooms = new Map(); // room id -> Set of sockets
const wss = new WebSocketServer({ host: arg('host', '127.0.0.1'), port: Number(arg('port', 0)), perMessageDeflate: false });

wss.on('connection', (socket) => {
  const joined = new Set();
  socket.on('message', (data) => {
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return socket.close(1007, 'bad JSON');
    }
    if (typeof m.room !== 'string') return;
    if (m.type === 'join') {
      let members = rooms.get(m.room);
      if (!members) rooms.set(m.room, (members = new Set()));
      members.add(socket);
      joined.add(m.room);
      socket.send(JSON.stringify({ type: 'joined', room: m.room }));
    } else if (m.type === 'publish') {
      const members = rooms.get(m.room);
      if (!members || !joined.has(m.room)) return;
      const frame = JSON.stringify({ type: 'message', room: m.room, body: m.body });
      for (const member of members) member.send(frame);
    }
  });
  socket.on('close', () => {
    for (const room of joined) {
      const members = rooms.get(room);
      members?.delete(socket);
      if (members?.size === 0) rooms.delete(room);
    }
  });
  socket.on('error', () => {});
});

wss.on('listening', () => console.log(`listening ${wss.address().port}`));
wss.on('error', (e) => {
  console.error(`ws-server: ${e.message}`);
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
