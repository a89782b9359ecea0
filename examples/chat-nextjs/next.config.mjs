// The production build sends a Content-Security-Policy that lets the client
// core compile its WebAssembly ('wasm-unsafe-eval') and nothing else that
// eval would allow; Next's own inline scripts need 'unsafe-inline' (or
// nonces). `next dev` sends none: its hot reloading evaluates code.
const csp = ["script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'", "object-src 'none'", "base-uri 'self'"].join('; ');

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  async headers() {
    if (process.env.NODE_ENV !== 'production') return [];
    // Uploaded files carry their own, stricter policy (a sandbox: app/api/uploads/[name]).
    return [{ source: '/((?!api/uploads/).*)', headers: [{ key: 'Content-Security-Policy', value: csp }] }];
  },
};
export default nextConfig;
