/** The bare-SQL bound for issue 13's shape, unkeyed (see `bare-split.ts`). */
import { BareSqlSplit } from './bare-split';
import { servePeer } from './peer';

const peer = new BareSqlSplit(false);
servePeer(peer, { idType: 'uuid', poolSize: peer.poolSize });
