import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { TakeoverPage } from './pages/takeover/takeover-page.tsx';
import { HashRouter, Navigate, Route, Routes } from 'react-router';
import { ConfigurationWizard } from './pages/configure/configuration-wizard.tsx';
import { ConfigurationWizardStateProvider } from './pages/configure/wizard-state.tsx';
import { OperationsView } from './pages/operations/operations-view.tsx';
import { SetupWizard } from './pages/setup-wizard.tsx';

/** Hash routing works both from file:// (Electron) and from the engine's loopback server (browser mode). */
export function App() {
  return (
    <FluentProvider theme={webLightTheme} style={{ minHeight: '100vh' }}>
      <HashRouter>
        <Routes>
          <Route path="/setup/*" element={<SetupWizard />} />
          <Route path="/configure/*" element={<ConfigurationWizardStateProvider><ConfigurationWizard /></ConfigurationWizardStateProvider>} />
          <Route path="/operations" element={<OperationsView />} />
          <Route path="/takeover" element={<TakeoverPage />} />
          <Route path="*" element={<Navigate to="/setup/welcome" replace />} />
        </Routes>
      </HashRouter>
    </FluentProvider>
  );
}
