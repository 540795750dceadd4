import { Query } from '@nestjs/cqrs';
import { GetHourlyVolumeQuery } from './get-hourly-volume.query';

describe('GetHourlyVolumeQuery', () => {
  it('is a CQRS query carrying optional filters', () => {
    const query = new GetHourlyVolumeQuery('EUR', '2026-01-01T00:00:00.000Z');
    expect(query).toBeInstanceOf(Query);
    expect(query).toMatchObject({ currency: 'EUR', from: '2026-01-01T00:00:00.000Z', to: undefined });
  });
});
