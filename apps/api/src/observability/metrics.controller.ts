import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { MetricsRegistry } from '@modulith/observability';

interface HeaderReply {
  header(name: string, value: string): unknown;
}

@ApiTags('operations')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics: HTTP, messaging, outbox backlog, notifications, process' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  async scrape(@Res({ passthrough: true }) reply: HeaderReply): Promise<string> {
    const text = await this.metrics.metrics();
    reply.header('content-type', this.metrics.contentType);
    return text;
  }
}
