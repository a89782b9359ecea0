// Loads the WebAssembly core once per page, lazily: importing this package
// never touches the WASM (safe in server rendering); the first client that
// connects loads it. The module is standalone (no Emscripten glue): it needs
// one import (how to abort), and its memory and exports are used as they are.
export interface CoreModule {
  readonly HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _parley_new(configPtr: number, length: number): number;
  _parley_free(handle: number): void;
  _parley_buffer(handle: number, size: number): number;
  _parley_command(handle: number, op: number, length: number, now: number): number;
  _parley_restore(handle: number, keyLength: number, blobLength: number, now: number): number;
  _parley_socket_opened(handle: number, socket: number, protocolLength: number, now: number): void;
  _parley_socket_closed(handle: number, socket: number, code: number, now: number): void;
  _parley_received(handle: number, socket: number, length: number, now: number): void;
  _parley_timer_fired(handle: number, timer: number, now: number): void;
  _parley_take_effects(handle: number): number;
  _parley_effects_data(handle: number): number;
  _parley_view(handle: number, length: number): number;
}

export interface LoadOptions {
  /**
   * The module's bytes. Without them browsers fetch parley-core.wasm next to
   * this file, and Node reads it from there (Node 20.16+: process.getBuiltinModule).
   */
  wasmBinary?: ArrayBuffer | Uint8Array;
}

// What the loader needs of Node, without depending on Node's types.
interface NodeProcess {
  getBuiltinModule?(id: 'fs'): { promises: { readFile(path: URL): Promise<Uint8Array> } };
}

const imports = {
  wasi_snapshot_preview1: {
    proc_exit: (code: number) => {
      throw new Error(`parley: the client core aborted (${code})`);
    },
  },
};

const compile = async (bytes: ArrayBuffer | Uint8Array) =>
  (await WebAssembly.instantiate(bytes as ArrayBuffer, imports)).instance;

async function instantiate(options: LoadOptions): Promise<WebAssembly.Instance> {
  if (options.wasmBinary) return compile(options.wasmBinary);
  // Bundlers (Next.js, Vite, webpack) see this URL and ship the .wasm as an asset.
  const url = new URL('./parley-core.wasm', import.meta.url);
  // Node's fetch cannot read a file: URL; its fs can. (Elsewhere, e.g. Deno, fetch can.)
  const fs = url.protocol === 'file:' && (globalThis as { process?: NodeProcess }).process?.getBuiltinModule?.('fs');
  if (fs) return compile(await fs.promises.readFile(url));
  const response = fetch(url);
  try {
    return (await WebAssembly.instantiateStreaming(response, imports)).instance;
  } catch {
    // A server that does not say application/wasm: compile from the bytes.
    // (A failure here is the one reported: a 404, a CSP without 'wasm-unsafe-eval'.)
    const r = await fetch(url);
    if (!r.ok) throw new Error(`HTTP ${r.status} for ${url.href}`);
    return compile(await r.arrayBuffer());
  }
}

async function load(options: LoadOptions): Promise<CoreModule> {
  const instance = await instantiate(options);
  const e = instance.exports as Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };
  (e._initialize as () => void)();
  let view = new Uint8Array(e.memory.buffer);
  const m: Record<string, unknown> = {
    // The memory may grow (and its buffer change) during any call.
    get HEAPU8() {
      if (view.buffer !== e.memory.buffer) view = new Uint8Array(e.memory.buffer);
      return view;
    },
    _malloc: e.malloc,
    _free: e.free,
  };
  for (const name of Object.keys(e)) if (name.startsWith('parley_')) m[`_${name}`] = e[name];
  return m as unknown as CoreModule;
}

let loading: Promise<CoreModule> | null = null;

export function loadCore(options: LoadOptions = {}): Promise<CoreModule> {
  if (!loading) {
    loading = load(options);
    loading.catch(() => {
      loading = null; // let a later attempt retry
    });
  }
  return loading;
}
