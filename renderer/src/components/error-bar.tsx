import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import type { ControlError } from '../lib/engine-client.ts';

/** An expected error, shown inline on the page that caused it, with the service's message. */
export function ErrorBar(props: { readonly error: ControlError | undefined; readonly title: string }) {
  if (!props.error) return null;
  return (
    <MessageBar intent="error" layout="multiline" data-testid="error-bar" data-code={props.error.code}>
      <MessageBarBody>
        <MessageBarTitle>{props.title}</MessageBarTitle>
        {props.error.message}
      </MessageBarBody>
    </MessageBar>
  );
}
