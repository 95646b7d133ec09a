/** `?embed` in the page's URL: the app runs for an embedding page (see docs/embed.md). */
export function isEmbedMode(search: string = window.location.search): boolean {
  return new URLSearchParams(search).has('embed');
}
