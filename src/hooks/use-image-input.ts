/** Drop anywhere on the app, or paste (Ctrl/Cmd+V), to open an image. */
import { useEffect, useState, type DragEvent } from 'react';
import { firstImageFile } from '../lib/decode-image.ts';
import { useAppStore } from '../state/store.ts';

function hasFiles(event: DragEvent): boolean {
  return [...event.dataTransfer.types].includes('Files');
}

export function useImageInput() {
  const openFile = useAppStore((s) => s.openFile);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target?.closest('input, textarea, [contenteditable="true"]')) return;
      const file = firstImageFile(event.clipboardData);
      if (!file) return;
      event.preventDefault();
      void openFile(file, file.name && file.name !== 'image.png' ? file.name : 'pasted.png');
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, [openFile]);

  return {
    dragging,
    dropProps: {
      onDragEnter: (event: DragEvent) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        setDragging(true);
      },
      onDragOver: (event: DragEvent) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
      },
      onDragLeave: (event: DragEvent) => {
        if (
          event.currentTarget === event.target ||
          !event.currentTarget.contains(event.relatedTarget as Node)
        ) {
          setDragging(false);
        }
      },
      onDrop: (event: DragEvent) => {
        event.preventDefault();
        setDragging(false);
        const file = firstImageFile(event.dataTransfer);
        if (file) void openFile(file, file.name || 'dropped.png');
      },
    },
  };
}
