import '../inputs.css';
import { useAppStore } from '../../../state/store.ts';
import { MetadataOption } from './MetadataOption.tsx';
import { SizeChoice } from './SizeChoice.tsx';

/** Under the photo controls: the too-large choice, and the photo's metadata with keep / strip. */
export function InputsPanel() {
  const sizeChoice = useAppStore((s) => s.sizeChoice);
  const metadata = useAppStore((s) => s.source?.metadata);
  const openFile = useAppStore((s) => s.openFile);
  const dismiss = useAppStore((s) => s.dismissSizeChoice);
  if (!sizeChoice && !metadata?.exif && !metadata?.icc) return null;
  return (
    <section className="panel-section inputs-panel" aria-label="Photo details">
      {sizeChoice && (
        <SizeChoice
          message={sizeChoice.message}
          downscaleTo={sizeChoice.downscaleTo}
          onDownscale={(size) =>
            void openFile(sizeChoice.file, sizeChoice.name, { downscaleTo: size })
          }
          onRefuse={dismiss}
        />
      )}
      {!sizeChoice && <MetadataOption metadata={metadata} />}
    </section>
  );
}
