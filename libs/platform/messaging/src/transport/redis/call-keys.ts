/**
 * Redis keys of remote calls, beside the event streams (`<prefix>:events:<type>`):
 * - `<prefix>:calls:<module>`: the module's request stream; consumer group `<module>`, one consumer per replica.
 * - `<prefix>:call-hosts:<module>`: the module's live replicas, a sorted set scored by when each one's presence lapses (Redis time, ms).
 * - `<prefix>:call-draining:<module>`: replicas stopping: they take no new call but still answer the ones they took (same scores).
 * - `<prefix>:call-replies:<replica>`: one caller process's replies, a list.
 */
export const callKeys = {
  requests: (prefix: string, module: string): string => `${prefix}:calls:${module}`,
  hosts: (prefix: string, module: string): string => `${prefix}:call-hosts:${module}`,
  draining: (prefix: string, module: string): string => `${prefix}:call-draining:${module}`,
  replies: (prefix: string, replica: string): string => `${prefix}:call-replies:${replica}`,
};

/** The one field of a request entry: the request as JSON. */
export const CALL_FIELD = 'call';
