import { Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, makeStyles, tokens } from '@fluentui/react-components';
import type { RunSummary } from '../../../engine/src/contract/model.ts';

const useStyles = makeStyles({
  sources: { display: 'flex', flexDirection: 'column', gap: '4px' },
  unread: { color: tokens.colorPaletteRedForeground1 },
});

/**
 * A run of several domains, domain by domain: the objects read from each, or why one could not be read (its objects
 * were left as they are); and the group members from another forest, reported and not written. Nothing for a run of one domain.
 */
export function RunSources(props: { readonly run: RunSummary }) {
  const styles = useStyles();
  const { sources, foreignMembers } = props.run;
  if ((sources?.length ?? 0) === 0 && (foreignMembers ?? 0) === 0) return null;
  return (
    <div className={styles.sources} data-testid="run-sources">
      {sources && sources.length > 0 && (
        <Table size="small" aria-label="Domains read">
          <TableHeader>
            <TableRow><TableHeaderCell>Domain</TableHeaderCell><TableHeaderCell>Forest</TableHeaderCell><TableHeaderCell>Read</TableHeaderCell></TableRow>
          </TableHeader>
          <TableBody>
            {sources.map((source) => (
              <TableRow key={source.id} data-testid="run-source" data-domain={source.domain} data-imported={source.imported} data-error={source.error}>
                <TableCell>{source.domain}</TableCell>
                <TableCell>{source.forest}</TableCell>
                <TableCell>
                  {source.error === undefined ? `${source.imported} objects`
                    : <Text className={styles.unread}>Not read: {source.error} Its objects were left as they are.</Text>}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {(foreignMembers ?? 0) > 0 && (
        <Text data-testid="foreign-members">
          {foreignMembers} group member{foreignMembers === 1 ? '' : 's'} from another forest, reported, not written.
        </Text>
      )}
    </div>
  );
}
