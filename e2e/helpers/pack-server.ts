/**
 * Model packs for the model-manager tests, generated at test time and served from another origin
 * (CORS allowed, as a pack host must), in variants:
 *
 *   good/        the tiny GenDR-shaped pack (tools/builder/packs.ts), valid
 *   bad-hash/    unet/model.onnx changed after the manifest was written
 *   missing/     vae_decoder/model.onnx not there
 *   not-onnx/    vae_decoder/model.onnx is not a model (the manifest's hash matches it)
 *   wrong-shape/ the manifest says 4 latent channels, the graphs have 16
 *   flaky/       like good/, but the first download of unet/model.onnx breaks off halfway
 *   slow/        like good/, trickled slowly (for Cancel)
 *
 * or, with `options.packs`, the packs the caller writes instead (e.g. the real-VAE pack).
 */
import fs from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { writePack, type PackContent } from '../../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../../tools/builder/packs.ts';
import { PACK_FILES } from '../../engine/latent/manifest.ts';

export interface PackServer {
  origin: string;
  dir: string;
  /** URL of a variant's manifest.json. */
  manifestUrl(variant: string): string;
  /** Requests seen, by path. */
  requests: string[];
  close(): Promise<void>;
}

async function writeVariants(root: string): Promise<void> {
  const good = tinyGendrPack();
  const pack = (id: string, content: PackContent = good): PackContent => ({
    ...content,
    manifest: { ...content.manifest, id, name: `Test pack (${id})` },
  });
  for (const variant of ['good', 'flaky', 'slow'])
    await writePack(path.join(root, variant), pack(variant));

  await writePack(path.join(root, 'bad-hash'), pack('bad-hash'));
  const unet = path.join(root, 'bad-hash', PACK_FILES.unet);
  const bytes = fs.readFileSync(unet);
  bytes[bytes.length >> 1] ^= 0xff;
  fs.writeFileSync(unet, bytes);

  await writePack(path.join(root, 'missing'), pack('missing'));
  await rm(path.join(root, 'missing', PACK_FILES.vaeDecoder));

  const garbage = Uint8Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24);
  await writePack(
    path.join(root, 'not-onnx'),
    pack('not-onnx', { ...good, files: { ...good.files, [PACK_FILES.vaeDecoder]: garbage } }),
  );

  const wrong = pack('wrong-shape');
  await writePack(path.join(root, 'wrong-shape'), {
    ...wrong,
    manifest: { ...wrong.manifest, vae: { ...wrong.manifest.vae, latentChannels: 4 } },
  });
}

export interface PackServerOptions {
  /**
   * Packs to serve instead of the generated test variants above: variant (folder) name → a
   * function that writes the pack into the folder it is given (e.g. e2e/helpers/real-vae-pack.ts).
   */
  packs?: Record<string, (dir: string) => Promise<unknown>>;
}

export async function startPackServer(
  port: number,
  options: PackServerOptions = {},
): Promise<PackServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gendr-packs-'));
  if (options.packs) {
    for (const [variant, write] of Object.entries(options.packs))
      await write(path.join(dir, variant));
  } else {
    await writeVariants(dir);
  }
  const requests: string[] = [];
  const cut = new Set<string>();
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(urlPath);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    const file = path.join(dir, path.normalize(urlPath));
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const data = fs.readFileSync(file);
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': data.byteLength,
    });
    if (urlPath === `/flaky/${PACK_FILES.unet}` && !cut.has(urlPath)) {
      cut.add(urlPath);
      res.write(data.subarray(0, data.byteLength >> 1), () => setTimeout(() => res.destroy(), 50));
      return;
    }
    if (urlPath.startsWith('/slow/') && urlPath.endsWith('.onnx')) {
      let at = 0;
      const step = () => {
        if (res.destroyed) return;
        if (at >= data.byteLength) return void res.end();
        res.write(data.subarray(at, at + 16 * 1024));
        at += 16 * 1024;
        setTimeout(step, 40);
      };
      step();
      return;
    }
    res.end(data);
  });
  await new Promise<void>((resolve) => server.listen(port, 'localhost', resolve));
  const origin = `http://localhost:${port}`;
  return {
    origin,
    dir,
    requests,
    manifestUrl: (variant) => `${origin}/${variant}/manifest.json`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Copies a variant's files into a fresh folder (for picking a folder from disk). */
export async function copyVariant(
  server: PackServer,
  variant: string,
  to: string,
): Promise<string> {
  const target = path.join(to, variant);
  await mkdir(target, { recursive: true });
  fs.cpSync(path.join(server.dir, variant), target, { recursive: true });
  await writeFile(path.join(target, 'README.txt'), 'a file the manifest does not list\n');
  return target;
}
