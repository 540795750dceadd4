/** The bare-SQL bound for issue 13's shape, every event keyed by its `to` account (see `bare-split.ts`). */
import { BareSqlSplit } from './bare-split';
import { servePeer } from './peer';

const peer = new BareSqlSplit(true);
servePeer(peer, { idType: 'uuid', poolSize: peer.poolSize });
