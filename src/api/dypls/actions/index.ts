// The dypls action registry, keyed by Alibaba's Action name. A new action is one file in this
// folder plus one line here.
import type { ActionFactory } from '../action.js';
import bindAxb from './bind-axb.js';
import bindAxn from './bind-axn.js';
import bindAxnExtension from './bind-axn-extension.js';
import unbindSubscription from './unbind-subscription.js';
import updateSubscription from './update-subscription.js';
import querySubscriptionDetail from './query-subscription-detail.js';
import querySubsId from './query-subs-id.js';
import querySecretNoRemain from './query-secret-no-remain.js';
import buySecretNo from './buy-secret-no.js';
import releaseSecretNo from './release-secret-no.js';
import queryRecordFileDownloadUrl from './query-record-file-download-url.js';
import queryCallStatus from './query-call-status.js';

export const ACTIONS: ActionFactory[] = [
  bindAxb,
  bindAxn,
  bindAxnExtension,
  unbindSubscription,
  updateSubscription,
  querySubscriptionDetail,
  querySubsId,
  querySecretNoRemain,
  buySecretNo,
  releaseSecretNo,
  queryRecordFileDownloadUrl,
  queryCallStatus,
];
