import { TransferIngested } from './transfer-ingested.event';

describe('TransferIngested', () => {
  it('keeps a stable wire type and version', () => {
    expect(TransferIngested.type).toBe('ingestion.transfer-ingested');
    expect(TransferIngested.version).toBe(1);
  });
});
