/** One process using the messaging platform on a database, as its row in `messaging.instances` says. */
export interface InstanceView {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** `inprocess` or `redis` (`EVENT_TRANSPORT`). */
  readonly transport: string;
  readonly relayEnabled: boolean;
  /** Modules hosting durable subscribers here. */
  readonly modules: readonly string[];
  /** Durable subscribers hosted here, by name. */
  readonly durable: readonly string[];
  /** Best-effort subscribers hosted here, by name. */
  readonly bestEffort: readonly string[];
}

/** Something about the instances on one database that would lose events, with the fix in `message`. */
export interface TopologyProblem {
  readonly rule: 'transport' | 'relay-lacks-durable' | 'best-effort-split' | 'durable-not-relayed';
  readonly message: string;
  /** The other instances involved: a start-up waits for them if they look dead. */
  readonly instances: readonly string[];
}

/**
 * Why an instance cannot run as configured, given the other live instances on its database and
 * the modules known to have hosted durable subscribers there (`known`). Only the in-process
 * transport has topology rules beyond "one transport per database": it hands each event only to
 * the subscribers in the process whose relay claimed it, and that relay then deletes it.
 *
 * - every process on one database uses the same `EVENT_TRANSPORT`;
 * - a relaying process hosts every durable subscriber known anywhere (live or registered
 *   before): otherwise it deletes events they never saw;
 * - best-effort subscribers need at most one relaying process, and must run in it: otherwise
 *   each sees only what its own process relayed (or nothing);
 * - a process whose durable subscribers a live relaying process lacks would stall it.
 */
export function topologyProblems(self: InstanceView, others: readonly InstanceView[], known: readonly string[]): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  const mismatched = others.filter((other) => other.transport !== self.transport);
  if (mismatched.length > 0) {
    problems.push({
      rule: 'transport',
      message:
        `this process uses EVENT_TRANSPORT=${self.transport} but ${describe(mismatched)} uses ${mismatched[0].transport}: ` +
        'a relay on one transport deletes events the subscribers on the other never receive; give every process on this database the same EVENT_TRANSPORT',
      instances: mismatched.map((other) => other.id),
    });
  }
  if (self.transport !== 'inprocess') return problems;
  const peers = others.filter((other) => other.transport === 'inprocess');

  if (self.relayEnabled) {
    const elsewhere = peers.filter((other) => lacks(self, other).length > 0);
    const modules = unique([...known, ...peers.flatMap((other) => other.modules)]).filter((module) => !self.modules.includes(module));
    const subscribers = unique(elsewhere.flatMap((other) => lacks(self, other)));
    if (modules.length > 0 || subscribers.length > 0) {
      const what = [
        ...(modules.length > 0 ? [`module(s) ${modules.join(', ')}`] : []),
        ...(subscribers.length > 0 ? [`subscriber(s) ${subscribers.join(', ')}`] : []),
      ].join(' and ');
      problems.push({
        rule: 'relay-lacks-durable',
        message:
          `this process relays with the in-process transport but does not host the durable ${what}` +
          `${elsewhere.length > 0 ? ` (running in ${describe(elsewhere)})` : ' (declared by this app, or registered on this database before)'}: ` +
          `the events it relays would be deleted before they saw them. Fix: the Redis transport (eventTransport: 'redis'), or host those modules in this process, ` +
          `or relayEnabled: false here` +
          (elsewhere.length === 0 && modules.length > 0
            ? `; if a module was retired, forget it: DELETE FROM messaging.durable_modules WHERE module IN (${modules.map((m) => `'${m}'`).join(', ')})`
            : ''),
      instances: elsewhere.map((other) => other.id),
    });
    }
  } else {
    const stalled = peers.filter((other) => other.relayEnabled && lacks(other, self).length > 0);
    if (stalled.length > 0) {
      problems.push({
        rule: 'durable-not-relayed',
        message:
          `the durable subscriber(s) ${unique(stalled.flatMap((other) => lacks(other, self))).join(', ')} of this process do not run in the relaying ${describe(stalled)}: ` +
          "with the in-process transport only the relaying process delivers, so it would have to stop. Fix: the Redis transport (eventTransport: 'redis'), or run these modules in the relaying process",
        instances: stalled.map((other) => other.id),
      });
    }
  }

  const everyone = [self, ...peers];
  const allDurable = unique(everyone.flatMap((instance) => instance.durable));
  const allModules = unique([...known, ...everyone.flatMap((instance) => instance.modules)]);
  // A relay lacking a durable subscriber is paused (and deletes nothing): it does not count.
  const relays = (instance: InstanceView): boolean =>
    instance.relayEnabled && allDurable.every((name) => instance.durable.includes(name)) && allModules.every((name) => instance.modules.includes(name));
  const hostsBestEffort = everyone.filter((instance) => instance.bestEffort.length > 0);
  const relaying = everyone.filter(relays);
  const involved = hostsBestEffort.includes(self) || (relays(self) && hostsBestEffort.length > 0);
  // A host that does not relay sees nothing only if some other process relays (and deletes).
  const unserved = relaying.length > 0 && hostsBestEffort.some((instance) => !relays(instance));
  if (involved && (relaying.length > 1 || unserved)) {
    const names = unique(hostsBestEffort.flatMap((instance) => instance.bestEffort));
    const others = everyone.filter((instance) => instance !== self && (relays(instance) || instance.bestEffort.length > 0));
    problems.push({
      rule: 'best-effort-split',
      message:
        `best-effort subscriber(s) ${names.join(', ')} with the in-process transport see only the events their own process relays, ` +
        `but ${relaying.length} process(es) relay here${others.length > 0 ? ` (with ${describe(others)})` : ''}` +
        `${unserved ? ' and a process hosting them does not relay' : ''}. ` +
        "Fix: the Redis transport (eventTransport: 'redis', which broadcasts to every instance), or run a single relaying instance that hosts them",
      instances: others.map((instance) => instance.id),
    });
  }
  return problems;
}

/** Durable subscribers `other` hosts that `relay` does not. */
function lacks(relay: InstanceView, other: InstanceView): string[] {
  return other.durable.filter((subscriber) => !relay.durable.includes(subscriber));
}

function describe(instances: readonly InstanceView[]): string {
  return instances.map((instance) => `instance ${instance.host}:${instance.pid}`).join(', ');
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
