/** Input preferences that outlive one image: whether to keep metadata in the results. */
import { create } from 'zustand';

const KEEP_KEY = 'gendr.keepMetadata';

function storedKeep(): boolean {
  try {
    return localStorage.getItem(KEEP_KEY) !== 'false';
  } catch {
    return true;
  }
}

export interface InputsState {
  /** Carry EXIF (minus orientation) and the ICC profile over to the results. */
  keepMetadata: boolean;
  setKeepMetadata(keep: boolean): void;
}

export const useInputsStore = create<InputsState>()((set) => ({
  keepMetadata: storedKeep(),
  setKeepMetadata(keep) {
    try {
      localStorage.setItem(KEEP_KEY, String(keep));
    } catch {
      // Private mode: the choice lasts for this page only.
    }
    set({ keepMetadata: keep });
  },
}));
