import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CONSOLE_PAGE, CONSOLE_STYLE } from './console.page';
import { CONSOLE_SCRIPT } from './console.script';

/** The live ops console at `/`: a page, its style sheet and its script, all from this origin. */
@ApiTags('operations')
@Controller()
export class ConsoleController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  @ApiOperation({ summary: 'The live ops console (HTML)' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The console page', schema: { type: 'string' } })
  page(): string {
    return CONSOLE_PAGE;
  }

  @Get('console.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  @ApiOperation({ summary: "The ops console's style sheet" })
  @ApiProduces('text/css')
  @ApiOkResponse({ description: 'CSS', schema: { type: 'string' } })
  style(): string {
    return CONSOLE_STYLE;
  }

  @Get('console.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  @ApiOperation({ summary: "The ops console's script" })
  @ApiProduces('text/javascript')
  @ApiOkResponse({ description: 'JavaScript', schema: { type: 'string' } })
  script(): string {
    return CONSOLE_SCRIPT;
  }
}
