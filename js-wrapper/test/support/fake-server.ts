// An in-process stand-in for parleyd, for the wrapper's unit tests: it speaks
// protocol v1 in JSON (docs/protocol.md) over a fake WebSocket class that
// implements what the client uses of WebSocket, on the test's FakeClock.
// It keeps rooms, messages, members, watermarks and the dedup on
// (room, sender, clientMsgId), and checks tokens' `exp` (not their signature).
// Changes (edit, delete, react, unreact) set their target as parleyd does:
// only the sender edits or deletes, a missing or deleted target is
// not_found, a reply gets its original's quote; a join with sinceSeq replays
// the changes and the targets after it as they are now, and pages hold
// timeline messages only. `refuse` lets a test refuse or ignore sends.
// It does not rate-limit, retain history or kick. Tests that prove the client
// works with the real server use test/support/parleyd.ts instead.
//
// Socket events (open, each frame, close) reach the client in tasks of their
// own, in order, as a real socket's do: never in the microtask checkpoint of
// the call that caused them. clock.settle() lets them all land.
import type { ClientFrame, ErrorCode, Member, Message, ServerFrame } from '../../dist/index.js';
import type { FakeClock } from './fake-clock';

export const SUBPROTOCOL = 'parley.v1.json';

type Send = Extract<ClientFrame, { type: 'send' }>;
type Draft = Send['message'];

const CHANGES = ['edit', 'delete', 'react', 'unreact'];
export const isChange = (type: string) => CHANGES.includes(type);

/** What a test's `refuse` says of a send: an error to answer with, or 'ignore' (no answer at all). */
export type Verdict = { code: ErrorCode; message: string; path?: string; retryAfterMs?: number } | 'ignore' | undefined;

// A change sets its target (the same rules as the client core's).
function applyChange(m: Message, type: string, content: string, by: string, at: number): void {
  if (m.deletedAt !== undefined) return;
  if (type === 'delete') {
    m.deletedAt = at;
    m.content = '';
    delete m.metadata;
    delete m.reactions;
  } else if (type === 'edit') {
    m.content = content;
    m.updatedAt = at;
  } else {
    const list = (m.reactions ??= []);
    const r = list.find((x) => x.emoji === content);
    if (type === 'react' && !r) list.push({ emoji: content, count: 1, userIds: [by] });
    else if (type === 'react' && r && !r.userIds.includes(by)) {
      r.count++;
      r.userIds.push(by);
    } else if (type === 'unreact' && r?.userIds.includes(by)) {
      r.userIds = r.userIds.filter((u) => u !== by);
      if (--r.count === 0) list.splice(list.indexOf(r), 1);
    }
    if (list.length === 0) delete m.reactions;
  }
}

/** A token the fake server accepts until `validForMs` from now on `clock` (unsigned: the fake reads only its claims). */
export function fakeToken(clock: FakeClock, user: string, name = user, validForMs = 3_600_000): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user, name, exp: Math.floor((clock.now() + validForMs) / 1000) })}.fake`;
}

interface Claims {
  sub: string;
  name: string;
  exp?: number;
}

interface Room {
  seq: number;
  messages: Message[];
  members: Map<string, Member>;
  /** Connections subscribed to the room. */
  subscribers: Set<FakeConnection>;
  /** (sender, clientMsgId) → the stored message. */
  sent: Map<string, Message>;
}

export interface FakeServerOptions {
  heartbeatMs?: number;
  typingTtlMs?: number;
  maxContentLength?: number;
  /** The subprotocol the server chooses; '' chooses none (as a server without Sec-WebSocket-Protocol). */
  subprotocol?: string;
  /** Page size of `joined` without `sinceSeq` and of `history` without `limit`. */
  pageSize?: number;
}

/** The server's end of one socket. */
export class FakeConnection {
  user: Claims | null = null;
  closed = false;
  /** Every frame the client sent on this socket, parsed. */
  readonly received: ClientFrame[] = [];

  constructor(
    readonly server: FakeServer,
    readonly socket: FakeWebSocket,
  ) {}

  send(frame: ServerFrame): void {
    if (this.closed) return;
    this.socket.deliver(JSON.stringify(frame));
  }

  /** Closes from the server's side with `code` (1006: the connection was lost, no close frame). */
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.server.disconnected(this);
    this.socket.closeFromServer(code, reason);
  }
}

/** What the client uses of a browser WebSocket, with the other end in a FakeServer. */
export class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState = 0;
  protocol = '';
  binaryType = 'blob';
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  connection: FakeConnection | null = null;

  constructor(
    readonly server: FakeServer,
    readonly url: string,
    readonly protocols: string[],
  ) {
    server.later(() => server.accept(this));
  }

  send(data: string | ArrayBufferLike | Uint8Array): void {
    if (this.readyState !== 1) throw new Error('fake WebSocket: send while not open');
    if (typeof data !== 'string') throw new Error('fake WebSocket: the fake server speaks JSON only');
    this.connection?.server.handle(this.connection, data);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    const connection = this.connection;
    if (connection && !connection.closed) {
      connection.server.disconnected(connection);
      connection.closed = true;
    }
    this.server.later(() => this.finish(code, reason, true));
  }

  // ------------------------------------------------------- the server's side

  opened(protocol: string): void {
    if (this.readyState !== 0) return;
    this.readyState = 1;
    this.protocol = protocol;
    this.onopen?.({});
  }

  /** The connection could not be made (the server is down): `error`, then `close` 1006. */
  refused(): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006, reason: '', wasClean: false });
  }

  deliver(data: string): void {
    this.server.later(() => {
      if (this.readyState === 1) this.onmessage?.({ data });
    });
  }

  closeFromServer(code: number, reason: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    if (this.connection) this.connection.closed = true;
    this.server.later(() => this.finish(code, reason, code !== 1006));
  }

  private finish(code: number, reason: string, wasClean: boolean): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason, wasClean });
  }
}

export class FakeServer {
  /** Pass as the client's `WebSocket` option: sockets it opens connect to this server. */
  readonly WebSocket: typeof globalThis.WebSocket;
  /** Whether new connections are accepted (see stop() and start()). */
  up = true;
  /** When set, accepted connections are left without an answer (a black hole). */
  silent = false;
  /** Sockets accepted so far. */
  opened = 0;
  /** Asked about each send (new ones, not retries): an error to refuse it with, or 'ignore'. */
  refuse: ((send: Send, userId: string) => Verdict) | null = null;
  readonly connections = new Set<FakeConnection>();
  readonly rooms = new Map<string, Room>();
  private readonly options: Required<FakeServerOptions>;
  private sessions = 0;
  private posts = 0;
  private inFlight = 0;

  constructor(
    readonly clock: FakeClock,
    options: FakeServerOptions = {},
  ) {
    this.options = {
      heartbeatMs: 25_000,
      typingTtlMs: 5_000,
      maxContentLength: 4_000,
      subprotocol: SUBPROTOCOL,
      pageSize: 50,
      ...options,
    };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const server = this;
    this.WebSocket = class extends FakeWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(server, url, typeof protocols === 'string' ? [protocols] : (protocols ?? []));
      }
    } as unknown as typeof globalThis.WebSocket;
    clock.waitFor(() => this.inFlight > 0);
  }

  /** Runs `event` in a task of its own (socket events); clock.settle() waits for it. */
  later(event: () => void): void {
    this.inFlight++;
    setImmediate(() => {
      this.inFlight--;
      event();
    });
  }

  /** A crash: every connection is lost (1006) and new ones are refused until start(). */
  stop(): void {
    this.up = false;
    for (const c of [...this.connections]) c.close(1006);
  }

  start(): void {
    this.up = true;
  }

  /** Every frame clients sent, of the given type, in order. */
  framesOf<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    const out: Extract<ClientFrame, { type: T }>[] = [];
    for (const c of this.allConnections) {
      for (const f of c.received) if (f.type === type) out.push(f as Extract<ClientFrame, { type: T }>);
    }
    return out;
  }

  /** Every connection ever accepted (open or closed), in order. */
  readonly allConnections: FakeConnection[] = [];

  /** A message in `roomId` from a user who is not connected (as another client's would arrive). */
  post(roomId: string, senderId: string, content: string, senderName = senderId): Message {
    const clientMsgId = `post_${String(++this.posts).padStart(8, '0')}`;
    return this.store(roomId, { senderId, senderName }, clientMsgId, { type: 'text', content });
  }

  /** A change (edit, delete, react, unreact) of `targetId` by a user who is not connected. */
  change(roomId: string, senderId: string, type: Draft['type'], targetId: string, content = ''): Message {
    const room = this.room(roomId);
    const target = room.messages.find((m) => m.id === targetId);
    if (target) applyChange(target, type, content, senderId, this.clock.now());
    const clientMsgId = `post_${String(++this.posts).padStart(8, '0')}`;
    return this.store(roomId, { senderId, senderName: senderId }, clientMsgId, { type, content, target: targetId });
  }

  /** The room's stored message `id` as it is now (a target's current state). */
  stored(roomId: string, id: string): Message | undefined {
    return this.rooms.get(roomId)?.messages.find((m) => m.id === id);
  }

  /** Stores `count` messages from `senderId` without telling anyone (history that existed before). */
  seed(roomId: string, senderId: string, count: number): void {
    const room = this.room(roomId);
    for (let i = 0; i < count; i++) {
      room.seq++;
      const clientMsgId = `seed_${String(room.seq).padStart(8, '0')}`;
      room.messages.push(
        this.message(roomId, room.seq, { senderId, senderName: senderId }, clientMsgId, {
          type: 'text',
          content: `m${room.seq}`,
        }),
      );
    }
  }

  /** Another member (not connected) starts or stops typing in `roomId`. */
  typing(roomId: string, userId: string, active: boolean, name = userId): void {
    this.toRoom(
      this.room(roomId),
      { type: 'typing', roomId, userId, name, active, ttlMs: this.options.typingTtlMs },
      userId,
    );
  }

  /** Another member's presence changes in `roomId`. */
  presence(roomId: string, member: Member): void {
    const room = this.room(roomId);
    room.members.set(member.userId, member);
    this.toRoom(room, { type: 'presence', roomId, members: [member] });
  }

  // ---------------------------------------------------------------- internals

  accept(socket: FakeWebSocket): void {
    if (!this.up || socket.readyState !== 0) {
      socket.refused();
      return;
    }
    const connection = new FakeConnection(this, socket);
    socket.connection = connection;
    this.opened++;
    this.connections.add(connection);
    this.allConnections.push(connection);
    const chosen = socket.protocols.includes(this.options.subprotocol) ? this.options.subprotocol : '';
    socket.opened(chosen);
  }

  disconnected(connection: FakeConnection): void {
    this.connections.delete(connection);
    for (const room of this.rooms.values()) room.subscribers.delete(connection);
  }

  handle(connection: FakeConnection, data: string): void {
    const frame = JSON.parse(data) as ClientFrame;
    connection.received.push(frame);
    if (this.silent) return;
    const ref = frame.ref;
    const ack = () => ref !== undefined && connection.send({ type: 'ack', ref });
    const error = (code: ErrorCode, message: string, path?: string, retryAfterMs?: number) =>
      connection.send({
        type: 'error',
        ...(ref !== undefined && { ref }),
        code,
        message,
        ...(path && { path }),
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      });

    if (frame.type === 'hello') {
      const claims = this.verify(frame.token);
      if (!claims) {
        error('unauthorized', 'bad or expired token');
        connection.close(4001, 'unauthorized');
        return;
      }
      connection.user = claims;
      connection.send({
        type: 'welcome',
        ...(ref !== undefined && { ref }),
        sessionId: `s_${++this.sessions}`,
        user: { id: claims.sub, name: claims.name },
        serverTime: this.clock.now(),
        heartbeatMs: this.options.heartbeatMs,
        limits: {
          maxFrameBytes: 65_536,
          maxContentLength: this.options.maxContentLength,
          sendIntervalMs: 1,
          sendBurst: 1000,
        },
      });
      return;
    }
    const user = connection.user;
    if (!user) {
      error('unauthorized', 'hello first');
      connection.close(4001, 'unauthorized');
      return;
    }
    switch (frame.type) {
      case 'auth': {
        const claims = this.verify(frame.token);
        if (!claims) return error('unauthorized', 'bad or expired token');
        if (claims.sub !== user.sub) return error('forbidden', 'the token names another user');
        connection.user = claims;
        return void ack();
      }
      case 'join': {
        const room = this.room(frame.roomId);
        room.subscribers.add(connection);
        const had = room.members.get(user.sub);
        const member: Member = { ...had, userId: user.sub, name: user.name, status: 'online' };
        room.members.set(user.sub, member);
        const messages =
          frame.sinceSeq !== undefined
            ? room.messages.filter((m) => m.seq > frame.sinceSeq!)
            : room.messages.filter((m) => !isChange(m.type)).slice(-this.options.pageSize);
        connection.send({
          type: 'joined',
          ...(ref !== undefined && { ref }),
          room: { id: frame.roomId, kind: 'public' },
          epoch: 'e1',
          headSeq: room.seq,
          members: [...room.members.values()],
          messages,
        });
        if (had?.status !== 'online')
          this.toRoom(room, { type: 'presence', roomId: frame.roomId, members: [member] }, user.sub);
        return;
      }
      case 'leave':
        this.rooms.get(frame.roomId)?.subscribers.delete(connection);
        return void ack();
      case 'send': {
        const room = this.rooms.get(frame.roomId);
        if (!room?.subscribers.has(connection)) return error('forbidden', 'join the room first');
        if ([...frame.message.content].length > this.options.maxContentLength) {
          return error('too_large', `the limit is ${this.options.maxContentLength}`, '/message/content');
        }
        const previous = room.sent.get(`${user.sub}\n${frame.clientMsgId}`);
        if (previous) {
          if (ref !== undefined) connection.send({ type: 'ack', ref, message: previous });
          return;
        }
        const verdict = this.refuse?.(frame, user.sub);
        if (verdict === 'ignore') return;
        if (verdict) return error(verdict.code, verdict.message, verdict.path, verdict.retryAfterMs);
        const draft = frame.message;
        let quote: Message['quote'];
        if (isChange(draft.type)) {
          const target = room.messages.find((m) => m.id === draft.target && !isChange(m.type));
          if (!target || target.deletedAt !== undefined)
            return error('not_found', 'no such message', '/message/target');
          if (draft.type === 'edit' || draft.type === 'delete') {
            if (target.senderId !== user.sub) return error('forbidden', 'not your message', '/message/target');
          }
          applyChange(target, draft.type, draft.content, user.sub, this.clock.now());
        } else if (draft.replyTo !== undefined) {
          const original = room.messages.find((m) => m.id === draft.replyTo && !isChange(m.type));
          if (!original || original.deletedAt !== undefined) {
            return error('not_found', 'no such message', '/message/replyTo');
          }
          quote = { senderId: original.senderId, senderName: original.senderName, excerpt: original.content };
        }
        const message = this.store(
          frame.roomId,
          { senderId: user.sub, senderName: user.name },
          frame.clientMsgId,
          draft,
          quote,
        );
        if (ref !== undefined) connection.send({ type: 'ack', ref, message });
        return;
      }
      case 'typing': {
        const room = this.rooms.get(frame.roomId);
        if (room) {
          this.toRoom(
            room,
            {
              type: 'typing',
              roomId: frame.roomId,
              userId: user.sub,
              name: user.name,
              active: frame.active,
              ttlMs: this.options.typingTtlMs,
            },
            user.sub,
          );
        }
        return void ack();
      }
      case 'read':
      case 'delivered': {
        const room = this.rooms.get(frame.roomId);
        const member = room?.members.get(user.sub);
        if (room && member) {
          const field = frame.type === 'read' ? 'readSeq' : 'deliveredSeq';
          if ((member[field] ?? 0) < frame.upToSeq) {
            member[field] = frame.upToSeq;
            this.toRoom(room, {
              type: 'receipt',
              roomId: frame.roomId,
              userId: user.sub,
              kind: frame.type,
              upToSeq: frame.upToSeq,
            });
          }
        }
        return void ack();
      }
      case 'presence':
        for (const [roomId, room] of this.rooms) {
          const member = room.members.get(user.sub);
          if (!member || !room.subscribers.has(connection)) continue;
          member.status = frame.status;
          this.toRoom(room, { type: 'presence', roomId, members: [member] }, user.sub);
        }
        return void ack();
      case 'history': {
        const room = this.room(frame.roomId);
        const before = room.messages.filter(
          (m) => !isChange(m.type) && (frame.beforeSeq === undefined || m.seq < frame.beforeSeq),
        );
        const page = before.slice(-(frame.limit ?? this.options.pageSize));
        connection.send({
          type: 'history',
          ...(ref !== undefined && { ref }),
          roomId: frame.roomId,
          messages: page,
          hasMore: page.length < before.length,
        });
        return;
      }
      case 'ping':
        connection.send({ type: 'pong', ...(ref !== undefined && { ref }), serverTime: this.clock.now() });
        return;
      default:
        return error('bad_request', `the fake server does not do ${frame.type}`, '/type');
    }
  }

  private verify(token: string): Claims | null {
    try {
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Partial<Claims>;
      if (typeof claims.sub !== 'string' || !claims.sub) return null;
      if (typeof claims.exp === 'number' && claims.exp * 1000 <= this.clock.now()) return null;
      return { sub: claims.sub, name: claims.name ?? claims.sub, exp: claims.exp };
    } catch {
      return null;
    }
  }

  private room(roomId: string): Room {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { seq: 0, messages: [], members: new Map(), subscribers: new Set(), sent: new Map() };
      this.rooms.set(roomId, room);
    }
    return room;
  }

  private message(
    roomId: string,
    seq: number,
    sender: { senderId: string; senderName: string },
    clientMsgId: string,
    draft: Omit<Draft, 'type'> & { type: Message['type'] },
    quote?: Message['quote'],
  ): Message {
    return {
      id: `m_${seq}`,
      roomId,
      ...sender,
      clientMsgId,
      seq,
      type: draft.type,
      content: draft.content,
      ...(draft.metadata && { metadata: draft.metadata }),
      ...(draft.replyTo && { replyTo: draft.replyTo }),
      ...(draft.target && { target: draft.target }),
      ...(quote && { quote }),
      createdAt: this.clock.now(),
    };
  }

  // Stores a message and delivers it to every subscriber, the sender's connections included.
  private store(
    roomId: string,
    sender: { senderId: string; senderName: string },
    clientMsgId: string,
    draft: Omit<Draft, 'type'> & { type: Message['type'] },
    quote?: Message['quote'],
  ): Message {
    const room = this.room(roomId);
    const message = this.message(roomId, ++room.seq, sender, clientMsgId, draft, quote);
    room.messages.push(message);
    room.sent.set(`${sender.senderId}\n${clientMsgId}`, message);
    this.toRoom(room, { type: 'message', message });
    return message;
  }

  // To every connection subscribed to the room, but those of `exceptUser`.
  private toRoom(room: Room, frame: ServerFrame, exceptUser?: string): void {
    for (const c of room.subscribers) if (c.user?.sub !== exceptUser) c.send(frame);
  }
}
