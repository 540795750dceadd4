import { ApiProperty } from '@nestjs/swagger';
import type { AccountBalances, CurrencyBalance, LedgerEntry, LedgerEntryPage, StatementLineView, StatementPage } from '@modulith/ledger/contracts';

// Swagger shapes of the ledger contracts' read models.

export class CurrencyBalanceDto implements CurrencyBalance {
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ pattern: '^-?[0-9]+$', example: '-1250', description: 'Signed integer in minor units, as a decimal string; may exceed 64 bits' })
  balance!: string;
  @ApiProperty({
    pattern: '^[1-9][0-9]*$',
    example: '42',
    description: "`seq` of the balance's last ledger entry: the `entrySeq` of the `BalanceChanged` that set it. Changes with a higher entrySeq came after this balance",
  })
  entrySeq!: string;
}

export class AccountBalancesDto implements AccountBalances {
  @ApiProperty({ example: 'alice' }) account!: string;
  @ApiProperty({ type: [CurrencyBalanceDto], description: 'Empty for an unknown account' }) balances!: CurrencyBalanceDto[];
}

export class LedgerEntryDto implements LedgerEntry {
  @ApiProperty({ example: '42', description: "Increases in the account's commit order" }) seq!: string;
  @ApiProperty({ example: 't-1' }) transferId!: string;
  @ApiProperty({ example: 'alice' }) account!: string;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ pattern: '^-?[0-9]+$', example: '-1250', description: 'Negative for a debit, positive for a credit' }) amount!: string;
  @ApiProperty({ pattern: '^-?[0-9]+$', example: '-1250', description: 'May exceed 64 bits' }) balanceAfter!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
}

export class LedgerEntryPageDto implements LedgerEntryPage {
  @ApiProperty({ type: [LedgerEntryDto] }) items!: LedgerEntryDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass back as `cursor` for the next page; null on the last' })
  nextCursor!: string | null;
}

export class StatementLineDto implements StatementLineView {
  @ApiProperty({ example: '42', description: 'The ledger entry of this line' }) entrySeq!: string;
  @ApiProperty({ pattern: '^-?[0-9]+$', example: '-1250', description: 'Negative for a debit, positive for a credit' }) amount!: string;
  @ApiProperty({ pattern: '^-?[0-9]+$', example: '8750', description: "The previous line's balance plus amount; may exceed 64 bits" }) balanceAfter!: string;
}

export class StatementPageDto implements StatementPage {
  @ApiProperty({ example: 'alice' }) account!: string;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ type: [StatementLineDto], description: 'Oldest first; empty for a balance with no entries' }) lines!: StatementLineDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass back as `cursor` for the next page; null on the last' })
  nextCursor!: string | null;
}
