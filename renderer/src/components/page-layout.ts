import { makeStyles, tokens } from '@fluentui/react-components';

/** The layout every wizard page shares: a column of sections, a row of buttons, a term/detail summary. */
export const usePageLayoutStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: '12px', alignItems: 'stretch' },
  row: { display: 'flex', gap: '8px', alignItems: 'center', flexWrap: 'wrap' },
  summary: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '4px 16px', margin: 0 },
  term: { color: tokens.colorNeutralForeground3 },
  detail: { margin: 0, overflowWrap: 'anywhere' },
});
