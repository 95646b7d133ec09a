// Loads tsx's ESM hook. A fresh clone has no node_modules: say what to run instead of printing
// Node's module stack.
export async function registerTsx() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    console.error(
      'gendr-web: dependencies are not installed; run `npm ci` (or `npm install`) first.',
    );
    process.exit(1);
  }
}
