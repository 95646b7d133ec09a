/**
 * An installed pack (opfs-store.ts) as the engine's PackSource: each file is read from OPFS once,
 * straight into the Uint8Array that onnxruntime-web copies into its heap; nothing else holds it.
 * Files were checked (size, sha256, graphs) when the pack was installed; here only their sizes
 * are checked again, which costs nothing.
 */
import { PackFileError, type PackSource } from '../../../engine/latent/pack-loader.ts';
import { fileAt, findInstalled } from '../../opfs/opfs-store.ts';

export interface InstalledPackSource extends PackSource {
  /** When the pack was installed (a reinstall is another pack to cache). */
  readonly installedAt: string;
}

export async function installedPackSource(id: string): Promise<InstalledPackSource> {
  const folder = await findInstalled(id);
  if (!folder?.marker) {
    throw new PackFileError(`The model pack “${id}” is not installed (any more) in this browser.`);
  }
  const manifestFile = await (await fileAt(folder.handle, 'manifest.json', false)).getFile();
  const manifest = JSON.parse(await manifestFile.text()) as {
    files?: Record<string, { bytes?: number }>;
  };
  return {
    label: `installed pack ${id}: `,
    installedAt: folder.marker.installedAt,
    async read(path: string): Promise<Uint8Array> {
      let file: File;
      try {
        file = await (await fileAt(folder.handle, path, false)).getFile();
      } catch {
        throw new PackFileError(
          `installed pack ${id}: ${path} is missing from the browser's storage; reinstall the pack.`,
        );
      }
      const expected = manifest.files?.[path]?.bytes;
      if (path !== 'manifest.json' && expected !== undefined && file.size !== expected) {
        throw new PackFileError(
          `installed pack ${id}: ${path} has ${file.size} bytes instead of ${expected}; reinstall the pack.`,
        );
      }
      return new Uint8Array(await file.arrayBuffer());
    },
  };
}
