/**
 * @modulith/messaging/redis — the Redis Streams transports (`EVENT_TRANSPORT=redis`): events
 * (`RedisStreamsTransport`: one stream per event type, a consumer group per module) and remote
 * commands and queries (`RedisCallTransport`), to wire one yourself with
 * `MessagingModule.forRoot({ transport })`.
 */
export { RedisStreamsTransport } from './transport/redis/redis-streams.transport';
export type { RedisStreamsOptions } from './transport/redis/redis-streams.transport';
export { RedisCallTransport } from './transport/redis/redis-calls.transport';
export type { RedisCallsOptions } from './transport/redis/redis-calls.transport';
