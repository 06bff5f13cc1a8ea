import { openDm } from '../dms.js';
import { invalidForm } from '../errors.js';
import { channelPayload } from '../payloads.js';
import { type RouteDef, route } from '../router.js';

/** Create DM (`client.users.createDM`): opens the bot's DM channel with a user, or returns the open one. */
export const dmRoutes: RouteDef[] = [
  route('POST', '/users/@me/channels', (r) => {
    const body = (typeof r.body.json === 'object' && r.body.json !== null ? r.body.json : {}) as Record<string, unknown>;
    const raw = body['recipient_id'];
    if (raw === undefined || raw === null) throw invalidForm(['recipient_id'], 'BASE_TYPE_REQUIRED', 'This field is required');
    const id = String(raw);
    if (!/^\d{1,20}$/.test(id)) throw invalidForm(['recipient_id'], 'NUMBER_TYPE_COERCE', `Value "${id}" is not snowflake.`);
    return { status: 200, body: channelPayload(r.ctx, openDm(r.ctx, id)) };
  }),
];
