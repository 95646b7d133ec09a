/** Tells the user a new version is ready (reload when they say so) or that offline use is ready. */
import { useEffect, useState } from 'react';
import { isBusy } from './busy.ts';
import { usePwa } from './pwa-store.ts';
import { applyUpdate } from './register-sw.ts';
import './pwa.css';

export function UpdatePrompt() {
  const updateReady = usePwa((s) => s.updateReady);
  const accepted = usePwa((s) => s.updateAccepted);
  const offlineReady = usePwa((s) => s.offlineReady);
  const [offlineSeen, setOfflineSeen] = useState(false);

  useEffect(() => {
    if (!offlineReady) return;
    const timer = setTimeout(() => setOfflineSeen(true), 8000);
    return () => clearTimeout(timer);
  }, [offlineReady]);

  if (updateReady) {
    return (
      <div className="pwa-banner" role="status" data-testid="update-prompt">
        {accepted ? (
          <span data-testid="update-pending">
            The new version loads as soon as the current restore has finished.
          </span>
        ) : (
          <>
            <span>A new version of GenDR Web is ready.</span>
            <button
              type="button"
              className="button primary"
              onClick={() => void applyUpdate()}
              data-testid="update-reload"
              title={isBusy() ? 'Reloads when the current restore has finished' : undefined}
            >
              Reload
            </button>
          </>
        )}
      </div>
    );
  }
  if (offlineReady && !offlineSeen) {
    return (
      <div className="pwa-banner" role="status" data-testid="offline-ready">
        <span>GenDR Web is ready to work offline.</span>
        <button type="button" className="link-button" onClick={() => setOfflineSeen(true)}>
          OK
        </button>
      </div>
    );
  }
  return null;
}
