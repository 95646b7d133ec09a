/** A page on another origin that embeds the app (the embed tests' "customer site"). */
import http from 'node:http';

export interface ParentServer {
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves `html` at / on `port`. `isolated` adds COOP/COEP so the parent is cross-origin isolated
 * and can pass that on to the iframe (allow="cross-origin-isolated").
 */
export async function serveParent(
  port: number,
  html: string,
  isolated = false,
): Promise<ParentServer> {
  const server = http.createServer((_req, res) => {
    const headers: Record<string, string> = { 'Content-Type': 'text/html; charset=utf-8' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    res.writeHead(200, headers).end(html);
  });
  await new Promise<void>((resolve) => server.listen(port, 'localhost', resolve));
  return {
    origin: `http://localhost:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
