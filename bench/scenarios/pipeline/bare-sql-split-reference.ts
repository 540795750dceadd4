/** The bare-SQL bound for issue 13's shape doing the reference app's work (see `bare-split-reference.ts`). */
import { BareSqlSplitReference } from './bare-split-reference';
import { servePeer } from './peer';

const peer = new BareSqlSplitReference();
servePeer(peer, { idType: 'uuid', poolSize: peer.poolSize });
