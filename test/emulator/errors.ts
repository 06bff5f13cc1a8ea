/** Discord-shaped API errors: `{ message, code, errors? }`. */

export interface FieldError {
  code: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return this.errors ? { message: this.message, code: this.code, errors: this.errors } : { message: this.message, code: this.code };
  }
}

/** Collects field errors into Discord's nested `errors` tree, e.g. `embeds.0.title._errors[]`. */
export class FormErrors {
  readonly tree: Record<string, unknown> = {};
  #count = 0;

  add(path: ReadonlyArray<string | number>, code: string, message: string): void {
    let node = this.tree;
    for (const key of path) {
      const k = String(key);
      node[k] ??= {};
      node = node[k] as Record<string, unknown>;
    }
    const list = (node['_errors'] ??= []) as FieldError[];
    list.push({ code, message });
    this.#count++;
  }

  get empty(): boolean {
    return this.#count === 0;
  }

  throwIfAny(): void {
    if (!this.empty) throw new ApiError(400, 50035, 'Invalid Form Body', this.tree);
  }
}

export function invalidForm(path: ReadonlyArray<string | number>, code: string, message: string): ApiError {
  const f = new FormErrors();
  f.add(path, code, message);
  return new ApiError(400, 50035, 'Invalid Form Body', f.tree);
}

export const Errors = {
  unauthorized: () => new ApiError(401, 0, '401: Unauthorized'),
  notFound: () => new ApiError(404, 0, '404: Not Found'),
  methodNotAllowed: () => new ApiError(405, 0, '405: Method Not Allowed'),
  unknownChannel: () => new ApiError(404, 10003, 'Unknown Channel'),
  unknownGuild: () => new ApiError(404, 10004, 'Unknown Guild'),
  unknownMember: () => new ApiError(404, 10007, 'Unknown Member'),
  unknownMessage: () => new ApiError(404, 10008, 'Unknown Message'),
  unknownRole: () => new ApiError(404, 10011, 'Unknown Role'),
  unknownUser: () => new ApiError(404, 10013, 'Unknown User'),
  unknownWebhook: () => new ApiError(404, 10015, 'Unknown Webhook'),
  unknownApplication: () => new ApiError(404, 10002, 'Unknown Application'),
  unknownInteraction: () => new ApiError(404, 10062, 'Unknown interaction'),
  unknownCommand: () => new ApiError(404, 10063, 'Unknown application command'),
  maxPins: (n: number) => new ApiError(400, 30003, `Maximum number of pins reached (${n})`),
  tooLarge: () => new ApiError(413, 40005, 'Request entity too large'),
  alreadyAcknowledged: () => new ApiError(400, 40060, 'Interaction has already been acknowledged.'),
  missingAccess: () => new ApiError(403, 50001, 'Missing Access'),
  dmChannelAction: () => new ApiError(400, 50003, 'Cannot execute action on a DM channel'),
  cannotEditOthers: () => new ApiError(403, 50005, 'Cannot edit a message authored by another user'),
  emptyMessage: () => new ApiError(400, 50006, 'Cannot send an empty message'),
  cannotSendToUser: () => new ApiError(403, 50007, 'Cannot send messages to this user'),
  nonTextChannel: () => new ApiError(400, 50008, 'Cannot send messages in a non-text channel'),
  missingPermissions: () => new ApiError(403, 50013, 'Missing Permissions'),
  systemMessage: () => new ApiError(400, 50021, 'Cannot execute action on a system message'),
  wrongChannelType: () => new ApiError(400, 50024, 'Cannot execute action on this channel type'),
  invalidRecipients: () => new ApiError(400, 50033, 'Invalid Recipient(s)'),
  threadArchived: () => new ApiError(400, 50083, 'Thread is archived'),
  invalidJson: () => new ApiError(400, 50109, 'The request body contains invalid JSON.'),
  threadAlreadyCreated: () => new ApiError(400, 160004, 'A thread has already been created for this message'),
};
