// Types of the test module's Emscripten glue (build/wasm/client-wasm/parley-core-test.mjs).
export interface ParleyCoreModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _parley_new(configPtr: number, length: number): number;
  _parley_free(handle: number): void;
  _parley_buffer(handle: number, size: number): number;
  _parley_command(handle: number, length: number, now: number): number;
  _parley_socket_opened(handle: number, socket: number, now: number): void;
  _parley_socket_closed(handle: number, socket: number, code: number, now: number): void;
  _parley_received(handle: number, socket: number, length: number, now: number): void;
  _parley_timer_fired(handle: number, timer: number, now: number): void;
  _parley_take_effects(handle: number): number;
  _parley_effects_data(handle: number): number;
  _parley_view(handle: number, length: number): number;
  _parley_restore(handle: number, keyLength: number, blobLength: number, now: number): number;
  /** Only in parley-core-test.mjs (the TypeScript tests' module). */
  _parley_inspect(direction: number, codec: number, ptr: number, length: number): number;
}

export interface ModuleOptions {
  wasmBinary?: ArrayBuffer | Uint8Array;
  locateFile?: (path: string, prefix: string) => string;
}

declare function createParleyCore(options?: ModuleOptions): Promise<ParleyCoreModule>;
export default createParleyCore;
