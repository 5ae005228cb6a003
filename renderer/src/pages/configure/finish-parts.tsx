/**
 * The parts the Finished page is made of: what it shows when another server holds the tenant, and
 * the first run's result.
 */
import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import type { OwnershipHolder } from '../../../../engine/src/contract/control-api.ts';

function holderText(holder: OwnershipHolder | undefined): string {
  if (!holder) return 'Another server holds the tenant.';
  return `The tenant is held by ${holder.hostName} since ${new Date(holder.claimedAt).toLocaleString()}.`;
}

/** Another server holds the tenant: take it over (after a confirmation), or only plan for now. */
export function OwnershipHeld(props: {
  readonly holder: OwnershipHolder | undefined; readonly confirming: boolean;
  readonly onTakeOver: () => void; readonly onNotNow: () => void; readonly onConfirm: () => void; readonly onCancel: () => void;
}) {
  return (
    <MessageBar intent="warning" layout="multiline" data-testid="ownership-held">
      <MessageBarBody>
        <MessageBarTitle>Another server synchronizes this tenant</MessageBarTitle>
        {holderText(props.holder)}{' '}
        {props.confirming
          ? 'If you take it over, that server stops writing to Microsoft Entra ID. Take it over?'
          : 'Only one server writes to the tenant at a time. Until you take it over, this server only plans.'}
      </MessageBarBody>
      <MessageBarActions>
        {props.confirming
          ? (
            <>
              <Button appearance="primary" onClick={props.onConfirm}>Yes, take over</Button>
              <Button onClick={props.onCancel}>Cancel</Button>
            </>
          )
          : (
            <>
              <Button onClick={props.onTakeOver}>Take over</Button>
              <Button onClick={props.onNotNow}>Not now</Button>
            </>
          )}
      </MessageBarActions>
    </MessageBar>
  );
}
