/** What the service worker told the page: ready for offline use, a new version waiting. */
import { create } from 'zustand';

export interface PwaState {
  /** The first install finished: everything needed offline is cached. */
  offlineReady: boolean;
  /** A new version is installed and waits for the user's go-ahead. */
  updateReady: boolean;
  /** The user accepted the update: it applies as soon as no restore is running. */
  updateAccepted: boolean;
  /** Service worker registration failed or is not supported (e.g. private mode). */
  unavailable: string | null;
}

export const usePwa = create<PwaState>()(() => ({
  offlineReady: false,
  updateReady: false,
  updateAccepted: false,
  unavailable: null,
}));
