/**
 * All-or-nothing output folders for the converters and `gendr-web pack`: the command writes into a
 * temporary sibling of the target (same folder, so the same filesystem), and only a command that
 * succeeds moves it into place. A failure removes the temporary folder and leaves the target
 * exactly as it was, whether it existed (a pack being added to) or not.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The temporary siblings' name: hidden, and never a name a command is asked to write. */
function sibling(target: string, kind: 'partial' | 'previous'): string {
  const tag = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  return path.join(path.dirname(target), `.${path.basename(target)}.${kind}-${tag}`);
}

/**
 * Runs `write` on a temporary copy of `target` (a copy of its current content when it exists, so
 * commands that add to a pack see it), then replaces `target` with the result.
 */
export async function withAtomicOutput<T>(
  target: string,
  write: (dir: string) => T | Promise<T>,
): Promise<T> {
  const resolved = path.resolve(target);
  const exists = fs.existsSync(resolved);
  if (exists && !fs.statSync(resolved).isDirectory()) {
    throw new Error(`${target} exists and is not a folder`);
  }
  fs.mkdirSync(path.dirname(resolved), { recursive: true });
  const work = sibling(resolved, 'partial');
  try {
    if (exists) {
      // A copy-on-write clone where the filesystem has them, else a plain copy: never hard links,
      // which writers truncating a file in place would change in the original too.
      fs.cpSync(resolved, work, {
        recursive: true,
        mode: fs.constants.COPYFILE_FICLONE,
        preserveTimestamps: true,
      });
    } else {
      fs.mkdirSync(work);
    }
    const result = await write(work);
    if (!exists) {
      fs.renameSync(work, resolved);
      return result;
    }
    const previous = sibling(resolved, 'previous');
    fs.renameSync(resolved, previous);
    try {
      fs.renameSync(work, resolved);
    } catch (error) {
      fs.renameSync(previous, resolved);
      throw error;
    }
    fs.rmSync(previous, { recursive: true, force: true });
    return result;
  } catch (error) {
    fs.rmSync(work, { recursive: true, force: true });
    // Messages name the folder the user gave, not the temporary one.
    if (error instanceof Error) error.message = error.message.replaceAll(work, target);
    throw error;
  }
}
