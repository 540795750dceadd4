import { ConfigurationError } from '@modulith/core';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { EventSchemaError, UnsupportedEventVersionError } from '../messaging.errors';
import type { IntegrationEventClass } from './integration-event';

/**
 * How an event class reads and checks payloads, built once per class (the validator is compiled
 * to a function once, then costs about a property walk per payload).
 */
export interface EventCodec {
  /** Throws `EventSchemaError` naming the first field under `path` that breaks the class's schema. */
  check(payload: unknown, path: string): void;
  /**
   * The payload of a stored event of `version` as this class reads it: passed through the
   * upcasters from `version` up to the class's own version, then checked against its schema.
   * Throws `UnsupportedEventVersionError` for a version newer than the class (or below 1) and
   * `EventSchemaError` for a payload that does not fit (or that an upcaster refused).
   */
  read(payload: unknown, version: number): object;
}

const codecs = new WeakMap<IntegrationEventClass, EventCodec>();

/**
 * The codec of an event class, compiled on first use. Throws `ConfigurationError`, naming the
 * event, when its upcaster chain has a gap: a class at version N must declare one upcaster
 * from each of 1 … N-1 (so a stored event of any version it published can still be read).
 */
export function eventCodec(eventClass: IntegrationEventClass): EventCodec {
  let codec = codecs.get(eventClass);
  if (!codec) {
    assertUpcasterChain(eventClass);
    codec = buildCodec(eventClass, eventClass.schema ? compile(eventClass) : undefined);
    codecs.set(eventClass, codec);
  }
  return codec;
}

function compile(eventClass: IntegrationEventClass): TypeCheck<TSchema> {
  try {
    return TypeCompiler.Compile(eventClass.schema as TSchema);
  } catch (error) {
    throw new ConfigurationError(
      `${eventClass.name} (${eventClass.type}).schema cannot be compiled (declare it with TypeBox's Type.*, not as plain JSON): ${(error as Error).message}`,
      { eventType: eventClass.type },
    );
  }
}

function buildCodec(eventClass: IntegrationEventClass, compiled: TypeCheck<TSchema> | undefined): EventCodec {
  const { type, version: current } = eventClass;
  const check = (payload: unknown, path: string, version = current): void => {
    if (!compiled || compiled.Check(payload)) return;
    const error = compiled.Errors(payload).First();
    const field = `${path}${fieldPath(error?.path ?? '')}`;
    throw new EventSchemaError(field, `${error?.message ?? 'does not match the schema'} (${type} v${version})`, { eventType: type, version });
  };
  return {
    check,
    read(payload, version) {
      if (!Number.isSafeInteger(version) || version < 1 || version > current) {
        throw new UnsupportedEventVersionError(`${eventClass.name} reads ${type} versions 1 to ${current}, got version ${version}`, {
          eventType: type,
          version,
        });
      }
      let upcast = payload;
      for (let from = version; from < current; from += 1) upcast = upcastOnce(eventClass, from, upcast);
      check(upcast, 'payload', version);
      return upcast as object;
    },
  };
}

function upcastOnce(eventClass: IntegrationEventClass, from: number, payload: unknown): unknown {
  const upcaster = eventClass.upcasters?.[from] as (payload: never) => unknown;
  try {
    return upcaster(payload as never);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new EventSchemaError('payload', `the upcaster from version ${from} refused it: ${reason} (${eventClass.type} v${from})`, {
      eventType: eventClass.type,
      version: from,
    });
  }
}

/** A gap in the chain v1 → v2 → … → vN, or an upcaster from a version that cannot exist, is a start-up error. */
function assertUpcasterChain(eventClass: IntegrationEventClass): void {
  const { type, version } = eventClass;
  const upcasters = eventClass.upcasters ?? {};
  const declared = Object.keys(upcasters).map(Number);
  const stray = declared.find((from) => !Number.isSafeInteger(from) || from < 1 || from >= version);
  if (stray !== undefined) {
    throw new ConfigurationError(`${eventClass.name} (${type}) is at version ${version} but declares an upcaster from version ${stray}`, {
      eventType: type,
    });
  }
  for (let from = 1; from < version; from += 1) {
    if (typeof upcasters[from] !== 'function') {
      throw new ConfigurationError(
        `${eventClass.name} (${type}) is at version ${version} but declares no upcaster from version ${from} to ${from + 1}: ` +
          `the chain v1 → … → v${version} has a gap, so stored events of version ${from} could not be read`,
        { eventType: type, missing: from },
      );
    }
  }
}

/** `/tags/1/name` (a JSON pointer) as `.tags[1].name`. */
function fieldPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
}
