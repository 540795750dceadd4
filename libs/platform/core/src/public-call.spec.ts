import { ConfigurationError } from './errors';
import { PublicCommand, PublicQuery, publicCallByType, publicCallOf, publicCalls } from './public-call';

describe('public call catalog', () => {
  it('records module, type and kind of each decorated class, found by class, instance or type', () => {
    @PublicQuery({ module: 'ledger', type: 'spec.get-thing' })
    class GetThingQuery {
      constructor(readonly id: string) {}
    }
    @PublicCommand({ module: 'ingestion', type: 'spec.do-thing' })
    class DoThingCommand {}

    expect(publicCallOf(GetThingQuery)).toEqual({ kind: 'query', module: 'ledger', type: 'spec.get-thing', target: GetThingQuery });
    expect(publicCallOf(new GetThingQuery('a'))?.type).toBe('spec.get-thing');
    expect(publicCallByType('spec.do-thing')).toEqual({ kind: 'command', module: 'ingestion', type: 'spec.do-thing', target: DoThingCommand });
    expect(publicCalls().map((call) => call.type)).toEqual(expect.arrayContaining(['spec.get-thing', 'spec.do-thing']));
    expect(publicCallOf(new (class NotPublic {})())).toBeUndefined();
  });

  it('refuses a type declared by two classes, naming both', () => {
    @PublicQuery({ module: 'ledger', type: 'spec.taken' })
    class FirstQuery {}
    expect(FirstQuery).toBeDefined();
    const declareSecond = (): unknown => {
      @PublicQuery({ module: 'ledger', type: 'spec.taken' })
      class SecondQuery {}
      return SecondQuery;
    };
    expect(declareSecond).toThrow(ConfigurationError);
    expect(declareSecond).toThrow('public query type "spec.taken" is declared twice: by FirstQuery and by SecondQuery');
  });

  it('refuses malformed module names and types', () => {
    expect(() => PublicQuery({ module: 'Ledger', type: 'spec.x' })(class BadModuleQuery {})).toThrow('module "Ledger"');
    expect(() => PublicCommand({ module: 'ledger', type: 'Spec X' })(class BadTypeCommand {})).toThrow('type "Spec X"');
  });
});
