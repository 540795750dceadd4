import { factsOf, type Subscription } from './source-facts';
import { isTestSource, tagValue, type ProjectInfo, type WorkspaceModel } from './workspace-model';

/** An integration event class as declared in the code. */
export interface EventInfo {
  /** `<project>:<ClassName>`: unique even if two contracts pick the same class name. */
  id: string;
  className: string;
  type?: string;
  version?: number;
  /** The project that declares it (usually a contracts library) and that project's scope. */
  project: string;
  scope: string;
}

export interface PublicationInfo {
  event: string;
  /** The publishing module's scope, and its project. */
  module: string;
  project: string;
}

export interface SubscriptionInfo extends Subscription {
  event: string;
  module: string;
  project: string;
}

export interface EventFlow {
  events: EventInfo[];
  publications: PublicationInfo[];
  subscriptions: SubscriptionInfo[];
  /** Transport classes of the platform (`implements Transport`). */
  transports: string[];
  /** Values messaging's `eventTransport` option may take and its default, if the platform has it. */
  transportSetting?: { choices: string[]; defaultValue?: string };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Who publishes and who subscribes to which integration event, from production code only:
 * events are classes that `extends IntegrationEvent`; a module publishes an event when its code
 * constructs one (`new TransferIngested(...)`, appended to its outbox); it subscribes with
 * `@OnIntegrationEvent(Event, options)`.
 */
export function eventFlow(model: Pick<WorkspaceModel, 'projects' | 'files'>): EventFlow {
  const projects = new Map(model.projects.map((project) => [project.name, project]));
  const scopeOf = (project: ProjectInfo | undefined, fallback: string) => (project && tagValue(project, 'scope')) ?? fallback;
  const production = model.files.filter((file) => !isTestSource(file.path) && projects.has(file.project));

  const events: EventInfo[] = [];
  for (const file of production) {
    for (const declared of factsOf(file.path, file.text).events) {
      events.push({ id: `${file.project}:${declared.className}`, ...declared, project: file.project, scope: scopeOf(projects.get(file.project), file.project) });
    }
  }
  events.sort((a, b) => byText(a.className, b.className) || byText(a.project, b.project));

  /** Which declared event a class name in `file` refers to: by its import path, else the only one, else the file's own project's. */
  const resolve = (className: string, file: { project: string; imports: Record<string, string> }): EventInfo | undefined => {
    const candidates = events.filter((event) => event.className === className);
    if (candidates.length <= 1) return candidates[0];
    const specifier = file.imports[className];
    return (
      candidates.find((event) => specifier !== undefined && projects.get(event.project)?.packageName === specifier) ??
      candidates.find((event) => event.project === file.project)
    );
  };

  const publications = new Map<string, PublicationInfo>();
  const subscriptions: SubscriptionInfo[] = [];
  let transports: string[] = [];
  let transportSetting: EventFlow['transportSetting'];
  for (const file of production) {
    const project = projects.get(file.project) as ProjectInfo;
    const type = tagValue(project, 'type');
    const facts = factsOf(file.path, file.text);
    if (type === 'platform') {
      transports = [...transports, ...facts.transports];
      // The option's choices (`const TRANSPORTS ... = ['inprocess', 'redis']`) and its default (`options.eventTransport ?? 'inprocess'`).
      const choices = /\bTRANSPORTS\b[^=\n]*=\s*\[([^\]]*)\]/.exec(file.text);
      if (choices) {
        const fallback = /options\.eventTransport\s*\?\?\s*['"]([\w-]+)['"]/.exec(file.text);
        transportSetting = { choices: [...choices[1].matchAll(/['"]([\w-]+)['"]/g)].map((choice) => choice[1]), ...(fallback ? { defaultValue: fallback[1] } : {}) };
      }
    }
    if (type !== 'module') continue;
    const module = scopeOf(project, file.project);
    const context = { project: file.project, imports: facts.imports };
    for (const { value: className } of facts.constructed) {
      const event = resolve(className, context);
      if (event) publications.set(`${event.id}|${module}`, { event: event.id, module, project: file.project });
    }
    for (const { value } of facts.subscriptions) {
      const event = resolve(value.eventClass, context);
      if (event) subscriptions.push({ ...value, event: event.id, module, project: file.project });
    }
  }
  // Events a contracts library declares are the public ones; others appear only where modules use them.
  const used = new Set([...publications.values()].map((p) => p.event).concat(subscriptions.map((s) => s.event)));
  const contracts = (event: EventInfo) => tagValue(projects.get(event.project) as ProjectInfo, 'type') === 'contracts';
  return {
    events: events.filter((event) => contracts(event) || used.has(event.id)),
    publications: [...publications.values()].sort((a, b) => byText(a.event, b.event) || byText(a.module, b.module)),
    subscriptions: subscriptions.sort(
      (a, b) => byText(a.event, b.event) || byText(a.module, b.module) || byText(a.name ?? '', b.name ?? '') || byText(a.className, b.className),
    ),
    transports: [...new Set(transports)].sort(),
    ...(transportSetting ? { transportSetting } : {}),
  };
}

/** How a subscription takes its events, in words. */
export function deliveryOf(subscription: Pick<Subscription, 'mode' | 'batch'>): string {
  if (subscription.mode === 'best-effort') return 'best effort';
  if (subscription.mode === 'batch') return `durable, batches of ${subscription.batch ?? '?'}`;
  return 'durable, one at a time';
}
