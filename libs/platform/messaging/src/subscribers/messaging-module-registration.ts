/** What a module tells the platform about itself through `MessagingModule.forModule`. */
export interface MessagingModuleOptions {
  /** The module's name, as in `MODULES`; recorded as `source` of what it publishes. */
  module: string;
  /** The schema the module owns, where its inbox lives; absent for a module without one (`schema: false`). */
  schema?: string;
}

/** Provided inside each `forModule` import so discovery can tell which module a subscriber belongs to. */
export class MessagingModuleRegistration {
  constructor(readonly options: MessagingModuleOptions) {}
}
