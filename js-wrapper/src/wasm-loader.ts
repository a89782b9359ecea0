// Loads the WebAssembly core once per page, lazily: importing this package
// never touches the WASM (safe in server rendering); the first client that
// connects loads it.
import type { ModuleOptions, ParleyCoreModule } from './parley-core.mjs';

let loading: Promise<ParleyCoreModule> | null = null;

export function loadCore(options: ModuleOptions = {}): Promise<ParleyCoreModule> {
  if (!loading) {
    loading = import('./parley-core.mjs').then((m) => m.default(options));
    loading.catch(() => {
      loading = null; // let a later attempt retry
    });
  }
  return loading;
}
