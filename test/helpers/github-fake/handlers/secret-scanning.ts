/**
 * Secret scanning alerts (made by tests with `gh.addSecretScanningAlert`) and the credential
 * revocation API. `POST /credentials/revoke` is unauthenticated on GitHub ("any authenticated
 * request will return a 403"); the server enforces that before this handler runs.
 */
import { alertJson, alertLocationJson } from '../shapes.js';
import { botLogin, type AlertState } from '../state.js';
import { notFound, ok, paginate, unprocessable } from './reply.js';
import { onRepo, type Handlers } from './types.js';

export const secretScanningHandlers: Handlers = {
  'secret-scanning/get-alert': onRepo((input, repo) => {
    const a = repo.alerts.get(Number(input.params.alert_number));
    return a ? ok(alertJson(input.fake, repo, a)) : notFound();
  }),

  'secret-scanning/update-alert': onRepo((input, repo) => {
    const a = repo.alerts.get(Number(input.params.alert_number));
    if (!a) return notFound();
    const b = input.body as {
      state?: AlertState['state'];
      resolution?: AlertState['resolution'];
      resolution_comment?: string | null;
      validity?: 'active' | 'inactive' | null;
    };
    if (b.state === 'resolved' && !b.resolution) return unprocessable('A resolution is required when the state is resolved.');
    const now = input.fake.now();
    if (b.state === 'resolved') {
      const resolved = {
        state: 'resolved',
        resolution: b.resolution ?? null,
        resolution_comment: b.resolution_comment ?? null,
        resolved_at: now,
        resolved_by: botLogin(input.fake.state),
      } satisfies Partial<AlertState>;
      Object.assign(a, resolved);
    } else if (b.state === 'open') {
      Object.assign(a, { state: 'open', resolution: null, resolution_comment: null, resolved_at: null, resolved_by: null } satisfies Partial<AlertState>);
    }
    if (b.validity) a.validity = b.validity;
    a.updated_at = now;
    return ok(alertJson(input.fake, repo, a));
  }),

  'secret-scanning/list-locations-for-alert': onRepo((input, repo) => {
    const a = repo.alerts.get(Number(input.params.alert_number));
    if (!a) return notFound();
    const { page, headers } = paginate(a.locations, input);
    return ok(
      page.map((l) => alertLocationJson(input.fake, repo, l)),
      200,
      headers,
    );
  }),

  'credentials/revoke': (input) => {
    input.fake.state.revokedCredentials.push(...(input.body.credentials as string[]));
    return ok({}, 202);
  },
};
