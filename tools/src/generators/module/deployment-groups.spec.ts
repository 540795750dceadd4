import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { addToCoreGroup, COMPOSE_FILE, K8S_CORE_FILE } from './deployment-groups';

describe('addToCoreGroup', () => {
  it('appends the module to the core group of compose and Kubernetes, once', () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write(COMPOSE_FILE, 'services:\n  core:\n    environment:\n      MODULES: ingestion,ledger\n  analytics:\n    environment:\n      MODULES: analytics\n');
    tree.write(K8S_CORE_FILE, 'env:\n  - name: MODULES\n    value: ingestion,ledger\n  - name: RELAY_ENABLED\n    value: "true"\n');
    expect(addToCoreGroup(tree, 'payments')).toEqual([]);
    expect(addToCoreGroup(tree, 'payments')).toEqual([]);
    expect(tree.read(COMPOSE_FILE, 'utf-8')).toContain('MODULES: ingestion,ledger,payments\n');
    expect(tree.read(COMPOSE_FILE, 'utf-8')).toContain('MODULES: analytics\n');
    expect(tree.read(K8S_CORE_FILE, 'utf-8')).toContain('value: ingestion,ledger,payments\n');
  });

  it('leaves missing files alone and reports an unrecognised one', () => {
    const tree = createTreeWithEmptyWorkspace();
    expect(addToCoreGroup(tree, 'payments')).toEqual([]);
    tree.write(COMPOSE_FILE, 'services: {}\n');
    expect(addToCoreGroup(tree, 'payments')).toEqual([`${COMPOSE_FILE}: no MODULES list found; add "payments" to a module group by hand`]);
  });
});
