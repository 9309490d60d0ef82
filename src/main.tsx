import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './ui/App';
import { ErrorBoundary } from './ui/chrome';
import { restoreLast } from './ui/project/persist';
import { killModelWorker } from './ui/session';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ErrorBoundary>
      <App />
    </ErrorBoundary>
  </StrictMode>,
);

void restoreLast();
// For the end-to-end tests (and anyone checking recovery): end the model worker as a crash would.
Object.assign(window, { fixpointTest: { killModelWorker } });
