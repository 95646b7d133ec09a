/**
 * What a command of the gendr-web command line looks like. Commands live in tools/cli/commands/
 * and are registered in tools/cli/commands/index.ts.
 */

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  /** Progress and errors go here; a TTY gets a live progress bar. */
  readonly stderr: NodeJS.WriteStream;
}

export interface CliCommand {
  readonly name: string;
  /** One line for `gendr-web --help`. */
  readonly summary: string;
  /** The full `gendr-web <name> --help` text. */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Exit codes. */
export const EXIT_OK = 0;
/** Something failed (e.g. some images of a batch). */
export const EXIT_FAILED = 1;
/** The command line itself was wrong. */
export const EXIT_USAGE = 2;
