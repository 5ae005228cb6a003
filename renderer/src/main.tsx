import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { initEngineClient } from './lib/engine-client.ts';

initEngineClient();

const root = document.getElementById('root');
if (!root) throw new Error('renderer: #root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
