#!/usr/bin/env node
// Peer server for the benchmarks (issue 7): Socket.IO 4.8 with socket.join and
// io.to(room).emit. Same semantics as Parley's fan-out: join a room, publish to
// it, every member of the room (the publisher included) gets the message.
//   client: 42["join","r1"]                         -> 42["joined","r1"]
//           42["publish",{"room":"r1","body":"..."}] -> 42["message",{"room":"r1","body":"..."}] to every member
// Clients connect over WebSocket directly (/socket.io/?EIO=4&transport=websocket).
//   node bench/peers/socketio-server.mjs [--port 0] [--host 127.0.0.1]
// Prints "listening <port>" on stdout once it accepts connections.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};

const http = createServer();
const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });

io.on('connection', (socket) => {
  socket.on('join', (room) => {
    if (typeof room !== 'string') return;
    socket.join(room);
    socket.emit('joined', room);
  });
  socket.on('publish', (m) => {
    if (!m || typeof m.room !== 'string' || !socket.rooms.has(m.room)) return;
    io.to(m.room).emit('message', { room: m.room, body: m.body });
  });
});

http.on('error', (e) => {
  console.error(`socketio-server: ${e.message}`);
  process.exit(1);
});
http.listen(Number(arg('port', 0)), arg('host', '127.0.0.1'), () => console.log(`listening ${http.address().port}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
