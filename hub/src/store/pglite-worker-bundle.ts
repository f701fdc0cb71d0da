import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

let bundled: Promise<URL> | undefined;

/**
 * The embedded store's worker (pglite-worker.ts) as one plain ES module, bundled once per
 * process. A worker thread does not inherit the parent's TypeScript loader, and starting tsx in
 * it cost about a second of CPU per thread (its loader runs in a thread of its own); Node 20
 * cannot strip types itself. Our modules are bundled in; packages stay imports, by absolute
 * file URL, so the worker loads the very copies the hub resolved.
 */
export function pgliteWorkerUrl(): Promise<URL> {
  bundled ??= (async () => {
    const out = await build({
      entryPoints: [fileURLToPath(new URL('./pglite-worker.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      plugins: [packagesByUrl],
    });
    const code = out.outputFiles[0]?.text;
    if (code === undefined) throw new Error('bundling the embedded store worker produced no output');
    return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
  })();
  bundled.catch(() => { bundled = undefined; });
  return bundled;
}

/** A data: module cannot resolve bare specifiers: each package import becomes its file URL. */
const packagesByUrl: Plugin = {
  name: 'packages-by-url',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('node:') || args.pluginData === packagesByUrl) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: packagesByUrl });
      if (r.errors.length > 0) return { errors: r.errors };
      if (r.external) return { path: args.path, external: true }; // a Node built-in named without node:
      return { path: pathToFileURL(r.path).href, external: true };
    });
  },
};
