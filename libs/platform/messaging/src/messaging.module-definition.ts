import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MessagingOptions } from './messaging.config';

/**
 * `forRoot(options)` and `forRootAsync({ imports, useFactory, inject })` of `MessagingModule`,
 * from Nest's own builder; `MESSAGING_OPTIONS` holds the options as the host app gave them.
 */
export const {
  ConfigurableModuleClass: ConfigurableMessagingModule,
  MODULE_OPTIONS_TOKEN: MESSAGING_OPTIONS,
  ASYNC_OPTIONS_TYPE: MESSAGING_ASYNC_OPTIONS,
} = new ConfigurableModuleBuilder<MessagingOptions>({ moduleName: 'Messaging' }).setClassMethodName('forRoot').build();

/** What `MessagingModule.forRootAsync` takes: `imports`, `useFactory` and `inject` (or `useClass` / `useExisting`). */
export type MessagingAsyncOptions = typeof MESSAGING_ASYNC_OPTIONS;
