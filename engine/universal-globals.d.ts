/**
 * The globals the engine may use: the ones that browsers, Web Workers and Node all provide with
 * the same meaning. tsconfig.engine.json compiles the engine against ES2023 plus this file only,
 * so a DOM, worker or Node global (document, self, OffscreenCanvas, process, Buffer, ...) is a
 * type error here; the page, the workers and the tools compile with their own libraries.
 */
export {};

declare global {
  type BufferSource = ArrayBufferView | ArrayBuffer;

  interface Performance {
    now(): number;
  }
  const performance: Performance;

  interface AbortSignal {
    readonly aborted: boolean;
    readonly reason: unknown;
    throwIfAborted(): void;
    addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
    removeEventListener(type: 'abort', listener: () => void): void;
  }

  class TextEncoder {
    encode(input?: string): Uint8Array;
  }
  class TextDecoder {
    constructor(label?: string, options?: { fatal?: boolean });
    decode(input?: BufferSource): string;
  }

  class URL {
    constructor(url: string, base?: string | URL);
    readonly href: string;
    readonly pathname: string;
    toString(): string;
  }

  interface SubtleCrypto {
    digest(
      algorithm: 'SHA-256' | 'SHA-1' | 'SHA-384' | 'SHA-512',
      data: BufferSource,
    ): Promise<ArrayBuffer>;
  }
  const crypto: { readonly subtle: SubtleCrypto };

  interface FetchResponse {
    readonly ok: boolean;
    readonly status: number;
    readonly statusText: string;
    arrayBuffer(): Promise<ArrayBuffer>;
    text(): Promise<string>;
  }
  function fetch(url: string | URL, init?: { signal?: AbortSignal }): Promise<FetchResponse>;

  namespace WebAssembly {
    class Module {
      constructor(bytes: BufferSource);
    }
    class Instance {
      constructor(module: Module, imports?: Imports);
      readonly exports: Record<string, unknown>;
    }
    class Memory {
      constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
      grow(delta: number): number;
    }
    class Global {
      constructor(
        descriptor: { value: 'i32' | 'i64' | 'f32' | 'f64'; mutable?: boolean },
        value?: number,
      );
      value: number;
    }
    type ImportValue = Memory | Global | ((...args: never[]) => unknown) | number;
    type Imports = Record<string, Record<string, ImportValue>>;
    function compile(bytes: BufferSource): Promise<Module>;
    function instantiate(module: Module, imports?: Imports): Promise<Instance>;
    function validate(bytes: BufferSource): boolean;
  }
}
