/**
 * The bench's own no-I/O query and command, declared public like a module's contracts: the
 * scenario's process hosts their module (`bench`); the remote caller, which hosts none, reaches
 * them over Redis with the same `execute` call.
 */
import { Command, Query } from '@nestjs/cqrs';
import { PublicCommand, PublicQuery } from '@modulith/core';

export const BENCH_MODULE = 'bench';

export interface Quote {
  id: string;
  price: number;
}

@PublicQuery({ module: BENCH_MODULE, type: 'bench.get-quote' })
export class GetQuoteQuery extends Query<Quote> {
  constructor(readonly id: string) {
    super();
  }
}

@PublicCommand({ module: BENCH_MODULE, type: 'bench.record-tick' })
export class RecordTickCommand extends Command<{ total: number }> {
  constructor(readonly amount: number) {
    super();
  }
}
