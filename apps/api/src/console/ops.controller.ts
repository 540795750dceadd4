import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { OpsOverviewDto, type OpsStateDto } from './ops-state.dto';
import { OpsStateService } from './ops-state.service';

@ApiTags('operations')
@Controller('ops')
export class OpsController {
  constructor(private readonly ops: OpsStateService) {}

  @Get('state')
  @ApiOperation({
    summary: 'What the ops console shows: modules of this process, the event flow, counters, outbox backlog, notifications',
    description: 'Read-only and free of secrets. Counters are totals since the process started; rates are left to the reader.',
  })
  @ApiQuery({ name: 'peers', required: false, enum: ['true', 'false'], description: 'Also read the processes named by OPS_PEERS (default true)' })
  @ApiOkResponse({ type: OpsOverviewDto })
  state(@Query('peers') peers?: string): Promise<OpsOverviewDto | OpsStateDto> {
    return peers === 'false' ? this.ops.state() : this.ops.overview();
  }
}
