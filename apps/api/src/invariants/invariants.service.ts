import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetAnalyticsTotalsQuery } from '@modulith/analytics/contracts';
import { GetIngestionTotalsQuery } from '@modulith/ingestion/contracts';
import { GetLedgerTotalsQuery } from '@modulith/ledger/contracts';
import { checkInvariants, type InvariantResult } from './invariant-check';

/** The modules whose public queries the invariant check reads. */
export const INVARIANT_MODULES = ['ingestion', 'ledger', 'analytics'] as const;

export interface InvariantReport {
  ok: boolean;
  results: InvariantResult[];
}

/** Reads each module through its public totals query and checks the invariants. */
@Injectable()
export class InvariantsService {
  constructor(private readonly queries: QueryBus) {}

  async check(): Promise<InvariantReport> {
    const [ingestion, ledger, analytics] = await Promise.all([
      this.queries.execute(new GetIngestionTotalsQuery()),
      this.queries.execute(new GetLedgerTotalsQuery()),
      this.queries.execute(new GetAnalyticsTotalsQuery()),
    ]);
    const results = checkInvariants({ ingestion, ledger, analytics });
    return { ok: results.every((result) => result.ok), results };
  }
}

export function formatReport(report: InvariantReport): string {
  const lines = report.results.map((result) => `${result.ok ? 'ok  ' : 'FAIL'}  ${result.name}: ${result.detail}`);
  lines.push(report.ok ? 'all invariants hold' : `${report.results.filter((r) => !r.ok).length} invariant(s) violated`);
  return lines.join('\n');
}
