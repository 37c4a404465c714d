// The failure converter used when payloads are encrypted: failure messages and stack traces travel
// in the failure's encoded attributes (a payload, so the codec encrypts them) instead of in clear
// text. A module of its own because Temporal loads it by path (DataConverter.failureConverterPath),
// and bundles it into the workflow sandbox: it must import nothing but @temporalio/common.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
