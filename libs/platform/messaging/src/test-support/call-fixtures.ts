// A module with public commands and queries for the remote-call tests: `accounts` owns a schema,
// opens accounts with a command (one row per application, no unique constraint, so a command
// applied twice shows as two rows) and answers queries, some slow, failing or unserializable.
import { Injectable, Module } from '@nestjs/common';
import { Command, CommandHandler, CqrsModule, Query, QueryBus, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { currentCallDeadline, currentCorrelation, NotFoundError, PublicCommand, PublicQuery, ValidationError } from '@modulith/core';
import { Database, defineModule } from '@modulith/database';
import { MessagingModule } from '../messaging.module';

export interface AccountView {
  id: string;
  owner: string;
}

export interface Opened {
  id: string;
  applications: number;
}

/** What a slow echo saw while it ran: where it ran, under which correlation and deadline. */
export interface Echo {
  label: string;
  pid: number;
  correlationId?: string;
  deadline?: number;
}

@PublicQuery({ module: 'accounts', type: 'fixture.get-account' })
export class GetAccountQuery extends Query<AccountView> {
  constructor(readonly id: string) {
    super();
  }
}

@PublicCommand({ module: 'accounts', type: 'fixture.open-account' })
export class OpenAccountCommand extends Command<Opened> {
  constructor(
    readonly id: string,
    readonly owner: string,
    /** How long the handler holds its transaction open after its writes, in ms. */
    readonly holdMs = 0,
  ) {
    super();
  }
}

@PublicQuery({ module: 'accounts', type: 'fixture.slow-echo' })
export class SlowEchoQuery extends Query<Echo> {
  constructor(
    readonly label: string,
    readonly delayMs: number,
  ) {
    super();
  }
}

@PublicQuery({ module: 'accounts', type: 'fixture.bad-result' })
export class BadResultQuery extends Query<{ amount: bigint }> {}

/** Labels of the slow echoes this process executed, in order. */
export const executedEchoes: string[] = [];

class CreateAccounts0001 implements MigrationInterface {
  readonly name = 'fixture-0001-accounts';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE accounts.accounts (id text PRIMARY KEY, owner text NOT NULL)');
    await runner.query('CREATE TABLE accounts.applications (account_id text NOT NULL, pid integer NOT NULL)');
  }
  async down(): Promise<void> {
    // fixtures are dropped with their database
  }
}

export const accountsModule = defineModule({ name: 'accounts', schema: 'accounts', migrations: [CreateAccounts0001] });

@Injectable()
@QueryHandler(GetAccountQuery)
export class GetAccountHandler implements IQueryHandler<GetAccountQuery> {
  constructor(private readonly database: Database) {}

  async execute({ id }: GetAccountQuery): Promise<AccountView> {
    const [row] = (await this.database.dataSource.query('SELECT id, owner FROM accounts.accounts WHERE id = $1', [id])) as AccountView[];
    if (!row) throw new NotFoundError(`account ${id} does not exist`, { id });
    return row;
  }
}

@Injectable()
@CommandHandler(OpenAccountCommand)
export class OpenAccountHandler implements ICommandHandler<OpenAccountCommand> {
  constructor(private readonly database: Database) {}

  execute({ id, owner, holdMs }: OpenAccountCommand): Promise<Opened> {
    if (!owner) throw new ValidationError('owner', 'must not be empty');
    return this.database.transaction(async (tx) => {
      await tx.query('INSERT INTO accounts.applications (account_id, pid) VALUES ($1, $2)', [id, process.pid]);
      await tx.query('INSERT INTO accounts.accounts (id, owner) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, owner]);
      if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
      const [{ n }] = (await tx.query('SELECT count(*)::int AS n FROM accounts.applications WHERE account_id = $1', [id])) as { n: number }[];
      return { id, applications: n };
    });
  }
}

@Injectable()
@QueryHandler(SlowEchoQuery)
export class SlowEchoHandler implements IQueryHandler<SlowEchoQuery> {
  async execute({ label, delayMs }: SlowEchoQuery): Promise<Echo> {
    executedEchoes.push(label);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const correlationId = currentCorrelation()?.correlationId;
    const deadline = currentCallDeadline();
    return { label, pid: process.pid, ...(correlationId ? { correlationId } : {}), ...(deadline ? { deadline } : {}) };
  }
}

@Injectable()
@QueryHandler(BadResultQuery)
export class BadResultHandler implements IQueryHandler<BadResultQuery> {
  async execute(): Promise<{ amount: bigint }> {
    return { amount: 10n };
  }
}

@PublicQuery({ module: 'accounts', type: 'fixture.hang' })
export class HangQuery extends Query<{ released: true }> {}

const hung: (() => void)[] = [];
/** Ends every `HangQuery` handler still running in this process. */
export function releaseHungQueries(): void {
  hung.splice(0).forEach((release) => release());
}

/** Never returns until the test releases it: a handler stuck on a lock or a dead socket. */
@Injectable()
@QueryHandler(HangQuery)
export class HangHandler implements IQueryHandler<HangQuery> {
  async execute(): Promise<{ released: true }> {
    await new Promise<void>((resolve) => hung.push(resolve));
    return { released: true };
  }
}

/** The module that owns the public messages above. */
@Module({
  imports: [CqrsModule, MessagingModule.forModule(accountsModule)],
  providers: [GetAccountHandler, OpenAccountHandler, SlowEchoHandler, BadResultHandler, HangHandler],
})
export class AccountsModule {}

/**
 * A caller in a module that imports a plain `CqrsModule`: Nest gives that import buses of its own,
 * beside the root's `CqrsModule.forRoot()` ones, and this module's QueryBus is that other one.
 */
@Injectable()
export class AccountLookup {
  constructor(private readonly queries: QueryBus) {}

  find(id: string): Promise<AccountView> {
    return this.queries.execute(new GetAccountQuery(id));
  }
}

/** Calls `accounts` without hosting it, through its own module's buses. */
@Module({ imports: [CqrsModule], providers: [AccountLookup], exports: [AccountLookup] })
export class AccountLookupModule {}
