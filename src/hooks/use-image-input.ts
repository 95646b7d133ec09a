/** Drop anywhere on the app, or paste (Ctrl/Cmd+V), to open an image. */
import { useEffect, useState, type DragEvent } from 'react';
import { openFiles } from '../features/batch/intake.ts';
import { allFiles, firstImageFile } from '../lib/decode-image.ts';

function hasFiles(event: DragEvent): boolean {
  return [...event.dataTransfer.types].includes('Files');
}

export function useImageInput() {
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      // The target is the window or the document when nothing has focus: only elements have closest().
      const target = event.target;
      if (target instanceof Element && target.closest('input, textarea, [contenteditable="true"]'))
        return;
      const file = firstImageFile(event.clipboardData);
      if (!file) return;
      event.preventDefault();
      const named =
        file.name && file.name !== 'image.png'
          ? file
          : new File([file], 'pasted.png', { type: file.type });
      openFiles([named]);
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, []);

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
        openFiles(allFiles(event.dataTransfer));
      },
    },
  };
}
